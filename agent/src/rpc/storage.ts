// Files and volumes: CopyFile, GetVolumeStats, ResizeVolume, UpdateEphemeralMounts and
// RemoveStaleVirtiofsShareMounts. Handlers check the request and call the storage manager or the
// file service.
import type { AgentService } from "../../gen/agent_pb.js";
import { VolumeUsage_Unit } from "../../gen/csi_pb.js";
import { InvalidInputError } from "../core/domain-error.js";
import type { ServiceImpl } from "../core/router.js";
import type { FileService } from "../files/index.js";
import type { StorageManager, Usage } from "../storage/index.js";

export interface StorageDeps {
  storage: StorageManager;
  files: FileService;
}

type StorageMethods =
  | "copyFile"
  | "getVolumeStats"
  | "resizeVolume"
  | "updateEphemeralMounts"
  | "removeStaleVirtiofsShareMounts";

export function storageHandlers(deps: StorageDeps): Pick<ServiceImpl<typeof AgentService>, StorageMethods> {
  return {
    copyFile: async (req) => {
      if (req.path === "") throw new InvalidInputError("CopyFile needs a path");
      await deps.files.copyFile(req);
      return {};
    },

    getVolumeStats: async (req) => {
      const path = requirePath(req.volumeGuestPath, "GetVolumeStats");
      const stats = await deps.storage.volumeStats(path);
      return {
        usage: [usage(stats.bytes, VolumeUsage_Unit.BYTES), usage(stats.inodes, VolumeUsage_Unit.INODES)],
        volumeCondition: { abnormal: false, message: "OK" },
      };
    },

    resizeVolume: async (req, ctx) => {
      const path = requirePath(req.volumeGuestPath, "ResizeVolume");
      await deps.storage.resizeVolume(path, req.size, ctx.signal);
      return {};
    },

    updateEphemeralMounts: async (req) => {
      await deps.storage.updateEphemeral(req.storages);
      return {};
    },

    removeStaleVirtiofsShareMounts: async () => {
      await deps.storage.removeStaleVirtiofsShareMounts();
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
