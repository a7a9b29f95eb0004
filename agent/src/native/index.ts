export {
  locateNative,
  type Native,
  native,
  type RebootMode,
  type VsockPeer,
  type WaitStatus,
} from "./addon.js";
export {
  drainBuffered,
  type ListenOptions,
  listenOnFd,
  readRemaining,
  socketFd,
  socketFromFd,
} from "./fd-stream.js";
