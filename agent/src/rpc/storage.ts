// Files and volumes: CopyFile, GetVolumeStats, ResizeVolume, UpdateEphemeralMounts and
// RemoveStaleVirtiofsShareMounts. Handlers check the request and call the storage manager or the
// file service.
import { VolumeUsage_Unit } from "../../gen/csi_pb.js";
import { InvalidInputError } from "../core/domain-error.js";
import type { Usage } from "../storage/index.js";
import type { AgentDeps } from "./index.js";
import type { AgentImpl, GroupMethods } from "./methods.js";

export async function handlers(deps: AgentDeps): Promise<Pick<AgentImpl, GroupMethods<"storage">>> {
  const [storage, files] = await Promise.all([deps.storage(), deps.files()]);
  return {
    copyFile: async (req) => {
      if (req.path === "") throw new InvalidInputError("CopyFile needs a path");
      await files.copyFile(req);
      return {};
    },

    getVolumeStats: async (req) => {
      const path = requirePath(req.volumeGuestPath, "GetVolumeStats");
      const stats = await storage.volumeStats(path);
      return {
        usage: [usage(stats.bytes, VolumeUsage_Unit.BYTES), usage(stats.inodes, VolumeUsage_Unit.INODES)],
        volumeCondition: { abnormal: false, message: "OK" },
      };
    },

    resizeVolume: async (req, ctx) => {
      const path = requirePath(req.volumeGuestPath, "ResizeVolume");
      await storage.resizeVolume(path, req.size, ctx.signal);
      return {};
    },

    updateEphemeralMounts: async (req) => {
      await storage.updateEphemeral(req.storages);
      return {};
    },

    removeStaleVirtiofsShareMounts: async () => {
      await storage.removeStaleVirtiofsShareMounts();
      return {};
    },
  };
}

function requirePath(path: string, rpc: string): string {
  if (path === "") throw new InvalidInputError(`${rpc} needs volume_guest_path`);
  return path;
}

function usage(u: Usage, unit: VolumeUsage_Unit) {
  return { total: u.total, available: u.available, used: u.used, unit };
}
