// grpc.Health: the runtime's readiness probe (Check) and what this agent is (Version).
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { AgentFeaturesSchema } from "../../gen/ext/features_pb.js";
import {
  type Health,
  HealthCheckResponse_ServingStatus,
  VersionCheckResponseSchema,
} from "../../gen/health_pb.js";
import type { ServiceImpl } from "../core/router.js";

/** Field number of the AgentFeatures extension in VersionCheckResponse (see agent/proto/ext). */
export const FEATURES_FIELD = 100;

export interface HealthDeps {
  agentVersion: string;
  apiVersion: string;
  /** Asked on Version only: it may load what it reports on (the storage drivers, say). */
  features(): Promise<MessageInitShape<typeof AgentFeaturesSchema>>;
}

export function healthHandlers(deps: HealthDeps): ServiceImpl<typeof Health> {
  return {
    // Never waits on anything: it must answer while every other call is blocked.
    check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
    version: async () => {
      const reply = create(VersionCheckResponseSchema, {
        grpcVersion: deps.apiVersion,
        agentVersion: deps.agentVersion,
      });
      // Upstream decoders skip this field; kata-agent-ctl reads it (katats.VersionWithFeatures).
      // An unknown field's data is stored as on the wire, length prefix included.
      const features = toBinary(AgentFeaturesSchema, create(AgentFeaturesSchema, await deps.features()));
      reply.$unknown = [
        {
          no: FEATURES_FIELD,
          wireType: WireType.LengthDelimited,
          data: new BinaryWriter().bytes(features).finish(),
        },
      ];
      return reply;
    },
  };
}
