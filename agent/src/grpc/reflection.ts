// gRPC server reflection (v1 and v1alpha) from the descriptors embedded in the generated code,
// so tools like grpcurl and our Python peer can discover the services. Written here rather than
// taken from @grpc/reflection: that package reads .proto files from its install directory at
// run time (which a single-file bundle does not have) and pulls in protobufjs.
import type { DescFile } from "@bufbuild/protobuf";
import { create, createRegistry, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import {
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/reflection_pb.js";
import { Code } from "../core/code.js";

const SERVICES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

export function addReflection(server: grpc.Server, files: DescFile[]): void {
  const registry = createRegistry(...files);
  const byName = new Map<string, DescFile>();
  const collect = (file: DescFile) => {
    if (byName.has(file.name)) return;
    byName.set(file.name, file);
    for (const dep of file.dependencies) collect(dep);
  };
  for (const file of files) collect(file);
  const serviceNames = [...files.flatMap((f) => f.services.map((s) => s.typeName)), ...SERVICES];

  /** The file and everything it imports, dependencies first, each serialized once. */
  const withDependencies = (file: DescFile): Uint8Array[] => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      for (const dep of f.dependencies) visit(dep);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    };
    visit(file);
    return out;
  };

  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const direct = registry.get(symbol);
    if (direct && "file" in direct) return direct.file;
    // A method: "pkg.Service.Method".
    const service = registry.getService(symbol.slice(0, symbol.lastIndexOf(".")));
    return service?.methods.some((m) => m.name === symbol.slice(symbol.lastIndexOf(".") + 1))
      ? service.file
      : undefined;
  };

  const answer = (request: ServerReflectionRequest): ServerReflectionResponse => {
    type Init = MessageInitShape<typeof ServerReflectionResponseSchema>;
    const reply = (messageResponse: Init["messageResponse"]) =>
      create(ServerReflectionResponseSchema, {
        validHost: request.host,
        originalRequest: request,
        messageResponse,
      });
    const notFound = (what: string) =>
      reply({
        case: "errorResponse",
        value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
      });
    const files = (file: DescFile | undefined, what: string) =>
      file
        ? reply({ case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file) } })
        : notFound(what);
    const m = request.messageRequest;
    switch (m.case) {
      case "listServices":
        return reply({
          case: "listServicesResponse",
          value: { service: serviceNames.map((name) => ({ name })) },
        });
      case "fileByFilename":
        return files(byName.get(m.value), `file ${m.value}`);
      case "fileContainingSymbol":
        return files(fileOfSymbol(m.value), `symbol ${m.value}`);
      case "allExtensionNumbersOfType":
        return registry.getMessage(m.value)
          ? reply({
              case: "allExtensionNumbersResponse",
              value: { baseTypeName: m.value, extensionNumber: [] },
            })
          : notFound(`type ${m.value}`);
      case "fileContainingExtension":
        return notFound(`extension ${m.value.containingType}:${m.value.extensionNumber}`);
      default:
        return reply({
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" },
        });
    }
  };

  const handler: grpc.handleBidiStreamingCall<ServerReflectionRequest, ServerReflectionResponse> = (call) => {
    call.on("data", (request: ServerReflectionRequest) => call.write(answer(request)));
    call.on("end", () => call.end());
    call.on("error", () => call.end());
  };
  for (const service of SERVICES) {
    const method = {
      path: `/${service}/ServerReflectionInfo`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (m: ServerReflectionRequest) =>
        Buffer.from(toBinary(ServerReflectionRequestSchema, m)),
      requestDeserialize: (b: Buffer) => fromBinary(ServerReflectionRequestSchema, b),
      responseSerialize: (m: ServerReflectionResponse) =>
        Buffer.from(toBinary(ServerReflectionResponseSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(ServerReflectionResponseSchema, b),
    };
    server.addService({ ServerReflectionInfo: method } as grpc.ServiceDefinition, {
      ServerReflectionInfo: handler,
    });
  }
}
