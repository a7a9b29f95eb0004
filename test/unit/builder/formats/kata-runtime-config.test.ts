// The drop-in and RuntimeClass writers, checked by parsing what they write: TOML with smol-toml,
// YAML with PyYAML, and every key against the field names the Kata runtime reads.
import { execFileSync } from "node:child_process";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { dropInToml, runtimeClassYaml } from "../../../../builder/src/formats/kata-runtime-config.js";

/**
 * The TOML keys of the runtime's [hypervisor.*] and [agent.*] tables, as its configuration
 * loader (src/runtime/pkg/katautils/config.go) declares them; kernel_verity_params is read since
 * the runtime opens dm-verity roots with dm-mod.create.
 */
const RUNTIME_HYPERVISOR_KEYS = new Set([
  "path",
  "jailer_path",
  "kernel",
  "initrd",
  "image",
  "rootfs_type",
  "firmware",
  "firmware_volume",
  "machine_accelerators",
  "cpu_features",
  "kernel_params",
  "kernel_verity_params",
  "machine_type",
  "block_device_driver",
  "entropy_source",
  "shared_fs",
  "virtio_fs_daemon",
  "virtio_fs_cache",
  "vhost_user_store_path",
  "file_mem_backend",
  "guest_hook_path",
  "guest_memory_dump_path",
  "seccompsandbox",
  "block_device_aio",
  "valid_hypervisor_paths",
  "valid_jailer_paths",
  "valid_virtio_fs_daemon_paths",
  "virtio_fs_extra_args",
  "pflashes",
  "valid_vhost_user_store_paths",
  "valid_file_mem_backends",
  "valid_entropy_sources",
  "enable_annotations",
  "default_maxmemory",
  "default_maxvcpus",
  "default_memory",
  "memory_slots",
  "default_bridges",
  "msize_9p",
  "default_vcpus",
  "enable_debug",
  "disable_image_nvdimm",
  "confidential_guest",
  "enable_iommu",
  "hypervisor_loglevel",
  "virtio_fs_cache_size",
  "virtio_fs_queue_size",
  "enable_hugepages",
]);
const RUNTIME_AGENT_KEYS = new Set([
  "kernel_modules",
  "enable_debug",
  "enable_tracing",
  "debug_console_enabled",
  "dial_timeout",
  "cdh_api_timeout",
]);

describe("the Kata runtime drop-in", () => {
  it("writes only fields the runtime reads, in the tables it reads them from", () => {
    const text = dropInToml({
      hypervisor: "clh",
      header: ["made by a test"],
      fields: {
        kernel: "/opt/kata/vmlinux",
        image: "/opt/kata/guest.img",
        rootfs_type: "erofs",
        kernel_verity_params: "root_hash=ab,salt=cd,data_blocks=8,data_block_size=4096,hash_block_size=4096",
        kernel_params: "agent.log=debug",
        disable_image_nvdimm: true,
        default_memory: 512,
        default_vcpus: 1,
        path: "/usr/bin/cloud-hypervisor",
      },
      agent: { enable_debug: true, debug_console_enabled: true, dial_timeout: 30, kernel_modules: ["erofs"] },
    });
    expect(text.startsWith("# made by a test\n")).toBe(true);
    const doc = parse(text) as {
      hypervisor: Record<string, Record<string, unknown>>;
      agent: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc)).toEqual(["hypervisor", "agent"]);
    expect(Object.keys(doc.hypervisor)).toEqual(["clh"]);
    expect(Object.keys(doc.agent)).toEqual(["kata"]);
    for (const key of Object.keys(doc.hypervisor.clh!)) expect(RUNTIME_HYPERVISOR_KEYS, key).toContain(key);
    for (const key of Object.keys(doc.agent.kata!)) expect(RUNTIME_AGENT_KEYS, key).toContain(key);
    expect(doc.hypervisor.clh).toMatchObject({
      rootfs_type: "erofs",
      disable_image_nvdimm: true,
      default_memory: 512,
    });
    expect(doc.agent.kata).toEqual({
      enable_debug: true,
      debug_console_enabled: true,
      dial_timeout: 30,
      kernel_modules: ["erofs"],
    });
  });

  it("leaves out what is unset, and the agent table when empty", () => {
    const doc = parse(
      dropInToml({ hypervisor: "qemu", header: [], fields: { kernel: "/k", initrd: "/i" }, agent: {} }),
    );
    expect(doc).toEqual({ hypervisor: { qemu: { kernel: "/k", initrd: "/i" } } });
  });
});

describe("the RuntimeClass", () => {
  it("is a node.k8s.io/v1 RuntimeClass a YAML reader reads back", () => {
    const yaml = runtimeClassYaml({
      name: "kata-clh",
      handler: "kata-clh",
      overheadMemory: "130Mi",
      overheadCpu: "250m",
      nodeSelector: { "katacontainers.io/kata-runtime": "true" },
    });
    const read = JSON.parse(
      execFileSync(
        "python3",
        ["-c", "import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))"],
        {
          input: yaml,
          encoding: "utf8",
        },
      ),
    );
    expect(read).toEqual({
      apiVersion: "node.k8s.io/v1",
      kind: "RuntimeClass",
      metadata: { name: "kata-clh" },
      handler: "kata-clh",
      overhead: { podFixed: { memory: "130Mi", cpu: "250m" } },
      scheduling: { nodeSelector: { "katacontainers.io/kata-runtime": "true" } },
    });
  });
});
