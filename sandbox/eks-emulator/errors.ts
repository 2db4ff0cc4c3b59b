/**
 * EKS errors as the REST API returns them: an HTTP status, the `x-amzn-ErrorType` header naming the
 * exception, and a JSON body with `message` plus the resource names the exception shape carries.
 * @aws-sdk/client-eks reads the header to pick the exception class, so clients catch exactly what
 * they would catch against AWS.
 */
export type EksErrorType =
  | "InvalidParameterException"
  | "InvalidRequestException"
  | "ResourceInUseException"
  | "ResourceNotFoundException"
  | "ResourceLimitExceededException"
  | "ClientException"
  | "ServerException"
  | "NotFoundException"
  | "BadRequestException";

const STATUS_BY_TYPE: Record<EksErrorType, number> = {
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  ClientException: 400,
  ResourceInUseException: 409,
  ResourceNotFoundException: 404,
  NotFoundException: 404,
  BadRequestException: 400,
  ResourceLimitExceededException: 400,
  ServerException: 500,
};

export interface EksErrorFields {
  clusterName?: string;
  nodegroupName?: string;
  addonName?: string;
}

export class EksError extends Error {
  readonly status: number;
  constructor(
    readonly type: EksErrorType,
    message: string,
    readonly fields: EksErrorFields = {},
  ) {
    super(message);
    this.name = type;
    this.status = STATUS_BY_TYPE[type];
  }

  body(): Record<string, string> {
    const body: Record<string, string> = { message: this.message };
    for (const [key, value] of Object.entries(this.fields)) {
      if (typeof value === "string") body[key] = value;
    }
    return body;
  }
}

export function invalidParameter(message: string, fields?: EksErrorFields): EksError {
  return new EksError("InvalidParameterException", message, fields);
}

export function invalidRequest(message: string, fields?: EksErrorFields): EksError {
  return new EksError("InvalidRequestException", message, fields);
}

export function resourceInUse(message: string, fields?: EksErrorFields): EksError {
  return new EksError("ResourceInUseException", message, fields);
}

export function resourceNotFound(message: string, fields?: EksErrorFields): EksError {
  return new EksError("ResourceNotFoundException", message, fields);
}
