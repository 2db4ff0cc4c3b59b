"""Starts moto's server with the behaviours of real AWS the sandbox relies on and moto lacks.

Takes moto_server's own arguments. Each change below is one EC2 API promise the operator depends
on; without it the sandbox would report a fault the real service never shows.
"""
import sys
import threading

from moto.ec2.models.launch_templates import LaunchTemplate
from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.server import main

# CreateLaunchTemplateVersion with a ClientToken is idempotent in EC2: a repeat of a request that
# already succeeded (an SDK retry after a reset connection) answers with the version it created.
# moto ignores the token and adds a second version.
_request = threading.local()
_create_version = LaunchTemplate.create_version
_create_launch_template_version = LaunchTemplates.create_launch_template_version


def create_version(self, data, description):
    token = getattr(_request, "client_token", None)
    created = self.__dict__.setdefault("_sandbox_versions_by_client_token", {})
    if token and token in created:
        return created[token]
    version = _create_version(self, data, description)
    if token:
        created[token] = version
    return version


def create_launch_template_version(self):
    _request.client_token = self._get_param("ClientToken")
    try:
        return _create_launch_template_version(self)
    finally:
        _request.client_token = None


LaunchTemplate.create_version = create_version
LaunchTemplates.create_launch_template_version = create_launch_template_version

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
