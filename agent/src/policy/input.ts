// What a rule sees of a request: the request as proto3 JSON with the .proto field names and every
// field present (as upstream's serde serialization), except CopyFile, which upstream also
// pre-processes: no data, but the kind of file and a symlink's target.
import { type DescMessage, type Message, toJson } from "@bufbuild/protobuf";
import type { CopyFileRequest } from "../../gen/agent_pb.js";
import type { Json } from "./json.js";
import { messageType, type ValueType } from "./schema.js";

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export function policyInput(method: string, schema: DescMessage, request: Message): Json {
  if (method === "CopyFile") return copyFileInput(request as CopyFileRequest);
  return toJson(schema, request, { useProtoFieldName: true, alwaysEmitImplicit: true }) as Json;
}

function copyFileInput(req: CopyFileRequest): Json {
  const kind = req.fileMode & S_IFMT;
  const fileType = kind === S_IFDIR ? "dir" : kind === S_IFLNK ? "symlink" : "file";
  return {
    path: req.path,
    file_size: req.fileSize.toString(),
    file_mode: req.fileMode,
    dir_mode: req.dirMode,
    uid: req.uid,
    gid: req.gid,
    offset: req.offset.toString(),
    file_type: fileType,
    symlink_target: fileType === "symlink" ? new TextDecoder().decode(req.data) : "",
  };
}

const copyFileType: ValueType = {
  kind: "object",
  name: "CopyFile policy input",
  fields: Object.fromEntries(
    ["path", "file_size", "file_mode", "dir_mode", "uid", "gid", "offset", "file_type", "symlink_target"].map(
      (f) => [f, { kind: "scalar", name: "scalar" }],
    ),
  ),
};

/** The shape of `policyInput` for a method, to check rule paths against. */
export function inputType(method: string, schema: DescMessage): ValueType {
  return method === "CopyFile" ? copyFileType : messageType(schema);
}
