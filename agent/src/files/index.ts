export { type CopyFileInput, DEFAULT_MAX_FILE_SIZE } from "./copy-request.js";
export { DirHandle, isErrno, UnsafePathError } from "./dir-handle.js";
export { FileService, type FileServiceOptions } from "./file-service.js";
export { KeyedLock } from "./keyed-lock.js";
