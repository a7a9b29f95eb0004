package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"sort"

	pb "github.com/kata-containers/kata-containers/src/runtime/virtcontainers/pkg/agent/protocols/grpc"
)

// rtSpec is the part of an OCI runtime-spec config.json that a busybox
// container needs. The Kata runtime converts the whole specs.Spec; this
// converter covers only these fields and reports every other one it saw as
// ignored (see ignoredFields), so nothing is dropped silently.
type rtSpec struct {
	OCIVersion  string            `json:"ociVersion"`
	Process     *rtProcess        `json:"process"`
	Root        *rtRoot           `json:"root"`
	Hostname    string            `json:"hostname"`
	Mounts      []rtMount         `json:"mounts"`
	Annotations map[string]string `json:"annotations"`
	Linux       *rtLinux          `json:"linux"`
}

type rtProcess struct {
	Terminal        bool            `json:"terminal"`
	User            rtUser          `json:"user"`
	Args            []string        `json:"args"`
	Env             []string        `json:"env"`
	Cwd             string          `json:"cwd"`
	Capabilities    *rtCapabilities `json:"capabilities"`
	Rlimits         []rtRlimit      `json:"rlimits"`
	NoNewPrivileges bool            `json:"noNewPrivileges"`
	OOMScoreAdj     *int64          `json:"oomScoreAdj"`
}

type rtUser struct {
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGids []uint32 `json:"additionalGids"`
	Username       string   `json:"username"`
}

type rtCapabilities struct {
	Bounding    []string `json:"bounding"`
	Effective   []string `json:"effective"`
	Inheritable []string `json:"inheritable"`
	Permitted   []string `json:"permitted"`
	Ambient     []string `json:"ambient"`
}

type rtRlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

type rtRoot struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly"`
}

type rtMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options"`
}

type rtLinux struct {
	Namespaces    []rtNamespace     `json:"namespaces"`
	Resources     *rtResources      `json:"resources"`
	CgroupsPath   string            `json:"cgroupsPath"`
	MaskedPaths   []string          `json:"maskedPaths"`
	ReadonlyPaths []string          `json:"readonlyPaths"`
	Sysctl        map[string]string `json:"sysctl"`
}

type rtNamespace struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

type rtResources struct {
	Memory *rtMemory `json:"memory"`
	Pids   *rtPids   `json:"pids"`
}

type rtMemory struct {
	Limit            *int64  `json:"limit"`
	Reservation      *int64  `json:"reservation"`
	Swap             *int64  `json:"swap"`
	Kernel           *int64  `json:"kernel"`
	KernelTCP        *int64  `json:"kernelTCP"`
	Swappiness       *uint64 `json:"swappiness"`
	DisableOOMKiller *bool   `json:"disableOOMKiller"`
}

type rtPids struct {
	Limit int64 `json:"limit"`
}

// knownFields mirrors rtSpec: a nil value is a field converted as a whole, a
// map lists the members of an object that are converted.
var knownFields = map[string]interface{}{
	"ociVersion": nil,
	"process": map[string]interface{}{
		"terminal": nil, "user": nil, "args": nil, "env": nil, "cwd": nil,
		"capabilities": nil, "rlimits": nil, "noNewPrivileges": nil, "oomScoreAdj": nil,
	},
	"root":        nil,
	"hostname":    nil,
	"mounts":      nil,
	"annotations": nil,
	"linux": map[string]interface{}{
		"namespaces": nil,
		"resources": map[string]interface{}{
			"memory": nil, "pids": nil,
		},
		"cgroupsPath": nil, "maskedPaths": nil, "readonlyPaths": nil, "sysctl": nil,
	},
}

// ignoredFields lists the dotted paths of members present in raw that the
// converter does not carry over (e.g. "linux.resources.devices", "hooks").
func ignoredFields(raw map[string]interface{}, known map[string]interface{}, prefix string) []string {
	var out []string
	for k, v := range raw {
		sub, ok := known[k]
		switch {
		case !ok:
			out = append(out, prefix+k)
		case sub != nil:
			if obj, isObj := v.(map[string]interface{}); isObj {
				out = append(out, ignoredFields(obj, sub.(map[string]interface{}), prefix+k+".")...)
			}
		}
	}
	sort.Strings(out)
	return out
}

// loadRuntimeSpec reads config.json and converts it to the agent's protobuf
// Spec, returning the paths of the fields it did not convert.
func loadRuntimeSpec(file string) (*pb.Spec, []string, error) {
	b, err := ioutil.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	return parseRuntimeSpec(b)
}

func parseRuntimeSpec(b []byte) (*pb.Spec, []string, error) {
	var rs rtSpec
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, nil, fmt.Errorf("runtime spec: %v", err)
	}
	var raw map[string]interface{}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, nil, fmt.Errorf("runtime spec: %v", err)
	}
	return convertRuntimeSpec(&rs), ignoredFields(raw, knownFields, ""), nil
}

func convertRuntimeSpec(rs *rtSpec) *pb.Spec {
	s := &pb.Spec{
		Version:     rs.OCIVersion,
		Hostname:    rs.Hostname,
		Annotations: rs.Annotations,
	}
	if p := rs.Process; p != nil {
		s.Process = &pb.Process{
			Terminal: p.Terminal,
			User: &pb.User{
				UID:            p.User.UID,
				GID:            p.User.GID,
				AdditionalGids: p.User.AdditionalGids,
				Username:       p.User.Username,
			},
			Args:            p.Args,
			Env:             p.Env,
			Cwd:             p.Cwd,
			NoNewPrivileges: p.NoNewPrivileges,
		}
		if p.OOMScoreAdj != nil {
			s.Process.OOMScoreAdj = *p.OOMScoreAdj
		}
		if c := p.Capabilities; c != nil {
			s.Process.Capabilities = &pb.LinuxCapabilities{
				Bounding:    c.Bounding,
				Effective:   c.Effective,
				Inheritable: c.Inheritable,
				Permitted:   c.Permitted,
				Ambient:     c.Ambient,
			}
		}
		for _, r := range p.Rlimits {
			s.Process.Rlimits = append(s.Process.Rlimits, &pb.POSIXRlimit{Type: r.Type, Hard: r.Hard, Soft: r.Soft})
		}
	}
	if rs.Root != nil {
		s.Root = &pb.Root{Path: rs.Root.Path, Readonly: rs.Root.Readonly}
	}
	for _, m := range rs.Mounts {
		s.Mounts = append(s.Mounts, &pb.Mount{Destination: m.Destination, Source: m.Source, Type: m.Type, Options: m.Options})
	}
	if l := rs.Linux; l != nil {
		s.Linux = &pb.Linux{
			CgroupsPath:   l.CgroupsPath,
			MaskedPaths:   l.MaskedPaths,
			ReadonlyPaths: l.ReadonlyPaths,
			Sysctl:        l.Sysctl,
		}
		for _, ns := range l.Namespaces {
			s.Linux.Namespaces = append(s.Linux.Namespaces, &pb.LinuxNamespace{Type: ns.Type, Path: ns.Path})
		}
		if r := l.Resources; r != nil {
			s.Linux.Resources = &pb.LinuxResources{}
			if m := r.Memory; m != nil {
				mem := &pb.LinuxMemory{}
				set := func(dst *int64, src *int64) {
					if src != nil {
						*dst = *src
					}
				}
				set(&mem.Limit, m.Limit)
				set(&mem.Reservation, m.Reservation)
				set(&mem.Swap, m.Swap)
				set(&mem.Kernel, m.Kernel)
				set(&mem.KernelTCP, m.KernelTCP)
				if m.Swappiness != nil {
					mem.Swappiness = *m.Swappiness
				}
				if m.DisableOOMKiller != nil {
					mem.DisableOOMKiller = *m.DisableOOMKiller
				}
				s.Linux.Resources.Memory = mem
			}
			if r.Pids != nil {
				s.Linux.Resources.Pids = &pb.LinuxPids{Limit: r.Pids.Limit}
			}
		}
	}
	return s
}

// constrainForAgent does what the Kata Go runtime does to a container's spec
// before CreateContainer (kata_agent.go constrainGRPCSpec + handlePidNamespace):
// no hooks, no seccomp, no SELinux labels (none are converted here anyway);
// no device, pids, block-I/O or network resources and no cpuset; no cgroup,
// network or time namespace; every other namespace path blanked; the pid
// namespace entry removed, a path on it meaning "share the sandbox's".
// It returns that sandbox_pidns value.
func constrainForAgent(s *pb.Spec) (sandboxPidns bool) {
	s.Hooks = nil
	if s.Process != nil {
		s.Process.SelinuxLabel = ""
	}
	if s.Linux == nil {
		return false
	}
	s.Linux.Seccomp = nil
	s.Linux.MountLabel = ""
	if r := s.Linux.Resources; r != nil {
		r.Devices = nil
		r.Pids = nil
		r.BlockIO = nil
		r.Network = nil
		if r.CPU != nil {
			r.CPU.Cpus = ""
			r.CPU.Mems = ""
		}
	}
	var kept []*pb.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		switch ns.Type {
		case "cgroup", "network", "time":
		case "pid":
			sandboxPidns = sandboxPidns || ns.Path != ""
		default:
			kept = append(kept, &pb.LinuxNamespace{Type: ns.Type})
		}
	}
	s.Linux.Namespaces = kept
	return sandboxPidns
}

type convertedSpec struct {
	Spec         json.RawMessage `json:"spec"`
	SandboxPidns bool            `json:"sandboxPidns"`
	Ignored      []string        `json:"ignored"`
}

// runConvertSpec prints the Spec a container of the pod scenario would get
// (offline), so the converter can be checked without an agent.
func runConvertSpec(_ context.Context, _ *peer, args []string) (interface{}, error) {
	fs := flag.NewFlagSet("convert-spec", flag.ContinueOnError)
	fs.SetOutput(ioutil.Discard)
	file := fs.String("runtime-spec", "", "OCI runtime-spec config.json (required)")
	rootfs := fs.String("rootfs", "", "replaces root.path")
	raw := fs.Bool("raw", false, "skip what the runtime does before CreateContainer (constrainForAgent)")
	if err := fs.Parse(args); err != nil {
		return nil, usageError("convert-spec: " + err.Error())
	}
	if *file == "" || fs.NArg() != 0 {
		return nil, usageError("convert-spec: --runtime-spec is required and takes no positional arguments")
	}
	spec, ignored, err := loadRuntimeSpec(*file)
	if err != nil {
		return nil, usageError(err.Error())
	}
	if *rootfs != "" {
		if spec.Root == nil {
			spec.Root = &pb.Root{}
		}
		spec.Root.Path = *rootfs
	}
	out := convertedSpec{Ignored: ignored}
	if out.Ignored == nil {
		out.Ignored = []string{}
	}
	if !*raw {
		out.SandboxPidns = constrainForAgent(spec)
	}
	if out.Spec, err = toJSON(spec); err != nil {
		return nil, err
	}
	return out, nil
}
