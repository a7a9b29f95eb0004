export {
  locateNative,
  type Native,
  native,
  type RebootMode,
  type VsockPeer,
  type WaitStatus,
} from "./addon.js";
export { type ListenOptions, listenOnFd, readRemaining, socketFd, socketFromFd } from "./fd-stream.js";
