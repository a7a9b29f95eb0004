// kata_native: the few Linux calls the guest agent needs and Node does not offer.
// Plain C against node_api.h, no C++ and no node-addon-api, so it builds with `cc` alone.
// Every function is synchronous and returns quickly; waiting (vsock connect, fd receive) is
// bounded by a caller-given timeout. Failures throw errors shaped like Node's system errors:
// { code: "EADDRINUSE", errno: -98, syscall: "bind", message: "bind: EADDRINUSE (...)" }.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <net/if.h>
#include <linux/vm_sockets.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

// ---- errors and arguments -------------------------------------------------------------------

// errno is negative, as in Node, so util.getSystemErrorName(err.errno) gives back err.code.
static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  const char *name = strerrorname_np(err);
  char msg[200];
  napi_value code, text, error, num, sys;
  if (name == NULL) name = "UNKNOWN";
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, name, strerror(err));
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

// For a half-made fd: `err` is evaluated (errno read) before close() can change errno.
static napi_value close_fail(napi_env env, int fd, const char *syscall, int err) {
  close(fd);
  return throw_errno(env, syscall, err);
}

static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= want) return true;
  napi_throw_type_error(env, "ERR_MISSING_ARGS", "not enough arguments");
  return false;
}

// An integer in [min, max]; JS numbers are doubles, so reject fractions rather than truncate.
static bool int_arg(napi_env env, napi_value v, const char *name, double min, double max, int64_t *out) {
  napi_valuetype type;
  double d;
  char msg[160];
  napi_typeof(env, v, &type);
  if (type != napi_number) {
    snprintf(msg, sizeof msg, "%s must be a number", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  napi_get_value_double(env, v, &d);
  if (!(d >= min && d <= max) || d != (double)(int64_t)d) {
    snprintf(msg, sizeof msg, "%s must be an integer in [%.0f, %.0f], got %g", name, min, max, d);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

// A malloc'd copy of a JS string (caller frees), or NULL with a pending exception.
static char *str_arg(napi_env env, napi_value v, const char *name) {
  size_t len;
  char msg[120], *s;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a string", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  if ((s = malloc(len + 1)) == NULL) throw_errno(env, "malloc", ENOMEM);
  else napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

// The bindings below return NULL (undefined to JS) as soon as an exception is pending.
// Argument variables carry their JS names, which the error messages quote.
#define ARGS(n)     \
  napi_value argv[n]; \
  if (!get_args(env, info, n, argv)) return NULL
#define INT_ARG(i, var, min, max) \
  int64_t var;                    \
  if (!int_arg(env, argv[i], #var, min, max, &var)) return NULL
#define FD_ARG(i, var) INT_ARG(i, var, 0, INT32_MAX)
#define MAX_SAFE_INTEGER 9007199254740991.0  // 2^53 - 1, as in JS
#define CHECK(call, syscall) \
  if ((call) < 0) return throw_errno(env, syscall, errno)

static napi_value int_value(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

static napi_value fd_pair(napi_env env, int a, int b) {
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, int_value(env, a));
  napi_set_element(env, arr, 1, int_value(env, b));
  return arr;
}

// poll() one fd, retrying on EINTR. Returns 1 ready, 0 timed out, -1 error (errno set).
static int poll_one(int fd, short events, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = events};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r;
}

// ---- vsock: Node's net module cannot create AF_VSOCK sockets --------------------------------

// A non-blocking socket and its address from (cid, port); -1 and 0xFFFFFFFF mean "any".
static int vsock_socket(napi_env env, napi_value *argv, struct sockaddr_vm *addr) {
  int64_t cid, port;
  if (!int_arg(env, argv[0], "cid", -1, UINT32_MAX, &cid)) return -1;
  if (!int_arg(env, argv[1], "port", -1, UINT32_MAX, &port)) return -1;
  memset(addr, 0, sizeof *addr);
  addr->svm_family = AF_VSOCK;
  addr->svm_cid = (unsigned)cid;
  addr->svm_port = (unsigned)port;
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(env, "socket", errno);
  return fd;
}

static napi_value vsock_listen(napi_env env, napi_callback_info info) {
  ARGS(3);
  INT_ARG(2, backlog, 0, INT32_MAX);
  struct sockaddr_vm addr;
  int fd = vsock_socket(env, argv, &addr);
  if (fd < 0) return NULL;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return close_fail(env, fd, "bind", errno);
  if (listen(fd, (int)backlog) < 0) return close_fail(env, fd, "listen", errno);
  return int_value(env, fd);
}

static napi_value vsock_connect(napi_env env, napi_callback_info info) {
  ARGS(3);
  INT_ARG(2, timeoutMs, 0, INT32_MAX);
  struct sockaddr_vm addr;
  int fd = vsock_socket(env, argv, &addr);
  if (fd < 0) return NULL;
  // The kernel fails the connect by itself after SO_VM_SOCKETS_CONNECT_TIMEOUT (2 s by default),
  // so make that our timeout too; poll() enforces it either way.
  struct timeval tv = {.tv_sec = timeoutMs / 1000, .tv_usec = (timeoutMs % 1000) * 1000};
  if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv) < 0)
    return close_fail(env, fd, "setsockopt", errno);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return int_value(env, fd);
  if (errno != EINPROGRESS) return close_fail(env, fd, "connect", errno);
  int ready = poll_one(fd, POLLOUT, (int)timeoutMs), err = 0;
  socklen_t len = sizeof err;
  if (ready < 0) return close_fail(env, fd, "poll", errno);
  if (ready == 0) return close_fail(env, fd, "connect", ETIMEDOUT);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return close_fail(env, fd, "getsockopt", errno);
  if (err != 0) return close_fail(env, fd, "connect", err);
  return int_value(env, fd);
}

// The peer of an accepted vsock connection: who is calling (CID 1 or our own CID is this VM).
static napi_value vsock_peer(napi_env env, napi_callback_info info) {
  ARGS(1);
  FD_ARG(0, fd);
  struct sockaddr_vm addr;
  socklen_t len = sizeof addr;
  napi_value result;
  memset(&addr, 0, sizeof addr);
  CHECK(getpeername((int)fd, (struct sockaddr *)&addr, &len), "getpeername");
  if (addr.svm_family != AF_VSOCK) return throw_errno(env, "getpeername", EAFNOSUPPORT);
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "cid", int_value(env, addr.svm_cid));
  napi_set_named_property(env, result, "port", int_value(env, addr.svm_port));
  return result;
}

// This machine's own CID, as a guest's vsock transport reports it.
static napi_value vsock_local_cid(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned int cid = 0;
  int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
  CHECK(fd, "open");
  if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0) return close_fail(env, fd, "ioctl", errno);
  close(fd);
  return int_value(env, cid);
}

// ---- processes: the agent reaps the orphans of the containers it starts ---------------------

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl");
  return NULL;
}

static napi_value wait_pid(napi_env env, napi_callback_info info) {
  ARGS(1);
  INT_ARG(0, pid, 1, INT32_MAX);
  napi_value result, nul;
  int status, r;
  // __WALL: also collect children cloned with an exit signal other than SIGCHLD.
  do r = waitpid((pid_t)pid, &status, WNOHANG | __WALL);
  while (r < 0 && errno == EINTR);
  CHECK(r, "waitpid");
  napi_get_null(env, &nul);
  if (r == 0) return nul;  // still running
  bool exited = WIFEXITED(status);
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "pid", int_value(env, r));
  napi_set_named_property(env, result, "exitCode", exited ? int_value(env, WEXITSTATUS(status)) : nul);
  napi_set_named_property(env, result, "signal", sig ? int_value(env, sig) : nul);
  napi_set_named_property(env, result, "status", int_value(env, exited ? WEXITSTATUS(status) : 128 + sig));
  return result;
}

// Our zombie children, so the reaper can collect orphans by pid instead of waitpid(-1), which
// would steal exit statuses from libuv (it only ever waits for the pids it spawned).
static napi_value zombie_children(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr;
  uint32_t n = 0;
  pid_t self = getpid();
  DIR *proc = opendir("/proc");
  if (proc == NULL) return throw_errno(env, "opendir", errno);
  napi_create_array(env, &arr);
  for (struct dirent *de; (de = readdir(proc)) != NULL;) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    int pid = atoi(de->d_name), ppid, fd;
    char path[32], buf[512], state;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) continue;  // gone already
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) continue;
    buf[len] = '\0';
    // "pid (comm) state ppid ...": comm may hold spaces and ')', so parse after the last ')'.
    const char *end = strrchr(buf, ')');
    if (end == NULL || sscanf(end + 1, " %c %d", &state, &ppid) != 2) continue;
    if (state == 'Z' && ppid == self) napi_set_element(env, arr, n++, int_value(env, pid));
  }
  closedir(proc);
  return arr;
}

static napi_value set_sid(napi_env env, napi_callback_info info) {
  (void)info;
  pid_t sid = setsid();
  CHECK(sid, "setsid");
  return int_value(env, sid);
}

// A NULL-terminated copy of a JS string array (caller frees with free_strings), or NULL with a
// pending exception.
static char **strings_arg(napi_env env, napi_value v, const char *name) {
  uint32_t n = 0;
  bool is_array = false;
  char msg[120];
  napi_is_array(env, v, &is_array);
  if (!is_array) {
    snprintf(msg, sizeof msg, "%s must be an array of strings", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  napi_get_array_length(env, v, &n);
  char **list = calloc(n + 1, sizeof *list);
  if (list == NULL) {
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_get_element(env, v, i, &item);
    if ((list[i] = str_arg(env, item, name)) == NULL) {
      for (uint32_t j = 0; j < i; j++) free(list[j]);
      free(list);
      return NULL;
    }
  }
  return list;
}

static void free_strings(char **list) {
  if (list == NULL) return;
  for (char **p = list; *p != NULL; p++) free(*p);
  free(list);
}

// Starts `file` as the leader of a new session whose controlling terminal is `ttyFd` (also its
// stdin, stdout and stderr), as a getty or upstream's debug console does. Node's spawn cannot:
// it has no hook between fork and exec for TIOCSCTTY. The child runs only async-signal-safe
// calls before execve. Returns the pid; the caller reaps it (waitpid).
static napi_value spawn_in_session(napi_env env, napi_callback_info info) {
  ARGS(4);
  FD_ARG(3, ttyFd);
  char *file = str_arg(env, argv[0], "file");
  char **args = file ? strings_arg(env, argv[1], "argv") : NULL;
  char **envp = args ? strings_arg(env, argv[2], "env") : NULL;
  napi_value ret = NULL;
  if (envp == NULL) goto out;
  pid_t pid = fork();
  if (pid < 0) {
    ret = throw_errno(env, "fork", errno);
    goto out;
  }
  if (pid == 0) {
    // Node ignores SIGPIPE and may block signals; ignored dispositions and the mask survive
    // execve, and a shell must start with the defaults.
    sigset_t none;
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd = (int)ttyFd;
    // 1: take the terminal even if another session has it (PID 1 holds /dev/console).
    if (setsid() < 0 || ioctl(fd, TIOCSCTTY, 1) < 0) _exit(126);
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
    if (fd > 2) close(fd);
    execve(file, args, envp);
    _exit(127);
  }
  ret = int_value(env, pid);
out:
  free(file);
  free_strings(args);
  free_strings(envp);
  return ret;
}

// One datagram to a Unix socket: how a service tells systemd it is ready ($NOTIFY_SOCKET, where a
// leading '@' names an abstract socket). Node's dgram module has no Unix datagram sockets.
static napi_value send_datagram(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t len;
  char *data = NULL;
  napi_value ret = NULL;
  napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof addr.sun_path, &len);
  if (len == 0 || len >= sizeof addr.sun_path - 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "path must be a socket path of 1 to 106 bytes");
    return NULL;
  }
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  if ((data = str_arg(env, argv[1], "data")) == NULL) return NULL;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ret = throw_errno(env, "socket", errno);
  } else {
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t n = sendto(fd, data, strlen(data), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
    if (n < 0) ret = throw_errno(env, "sendto", errno);
    close(fd);
  }
  free(data);
  return ret;
}

// ---- fds: pipes with a chosen size, fd passing, ptys ----------------------------------------

static napi_value make_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  CHECK(pipe2(fds, O_CLOEXEC), "pipe2");
  return fd_pair(env, fds[0], fds[1]);
}

static napi_value set_pipe_size(napi_env env, napi_callback_info info) {
  ARGS(2);
  FD_ARG(0, fd);
  INT_ARG(1, bytes, 1, INT32_MAX);
  int size = fcntl((int)fd, F_SETPIPE_SZ, (int)bytes);
  CHECK(size, "fcntl");
  return int_value(env, size);
}

// Receives one fd sent with SCM_RIGHTS (how `runc --console-socket` hands over the pty master).
static napi_value recv_fd(napi_env env, napi_callback_info info) {
  ARGS(2);
  FD_ARG(0, socketFd);
  INT_ARG(1, timeoutMs, 0, INT32_MAX);
  int ready = poll_one((int)socketFd, POLLIN, (int)timeoutMs), fd = -1;
  CHECK(ready, "poll");
  if (ready == 0) return throw_errno(env, "recvmsg", ETIMEDOUT);
  char data[4096];  // the payload (runc sends the pty's name) is not needed
  _Alignas(struct cmsghdr) char control[CMSG_SPACE(8 * sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  do n = recvmsg((int)socketFd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  CHECK(n, "recvmsg");
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (fd < 0) fd = got;
      else close(got);  // we asked for one; do not leak extras
    }
  }
  if (fd < 0) return throw_errno(env, "recvmsg", ENOMSG);  // EOF, or a message without an fd
  return int_value(env, fd);
}

static napi_value set_winsize(napi_env env, napi_callback_info info) {
  ARGS(3);
  FD_ARG(0, fd);
  INT_ARG(1, rows, 0, UINT16_MAX);
  INT_ARG(2, cols, 0, UINT16_MAX);
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  CHECK(ioctl((int)fd, TIOCSWINSZ, &ws), "ioctl");
  return NULL;
}

static napi_value open_pty(napi_env env, napi_callback_info info) {
  (void)info;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
  CHECK(master, "posix_openpt");
  if (unlockpt(master) < 0) return close_fail(env, master, "unlockpt", errno);
  // TIOCGPTPEER opens the slave through the master: no /dev/pts path to look up or race on.
  slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return close_fail(env, master, "ioctl", errno);
  return fd_pair(env, master, slave);
}

static napi_value set_controlling_tty(napi_env env, napi_callback_info info) {
  ARGS(1);
  FD_ARG(0, fd);
  CHECK(ioctl((int)fd, TIOCSCTTY, 0), "ioctl");
  return NULL;
}

// ---- system: mounts, hostname, power, clock, swap, entropy ---------------------------------

static napi_value do_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  INT_ARG(3, flags, 0, UINT32_MAX);
  static const char *names[4] = {"source", "target", "fstype", "data"};
  char *s[4] = {NULL, NULL, NULL, NULL};
  napi_value ret = NULL;
  for (int i = 0; i < 4; i++)
    if ((s[i] = str_arg(env, argv[i < 3 ? i : 4], names[i])) == NULL) goto out;
  // "" stands for NULL in source, fstype and data (remounts and propagation changes pass none).
  if (mount(*s[0] ? s[0] : NULL, s[1], *s[2] ? s[2] : NULL, (unsigned long)flags, *s[3] ? s[3] : NULL) < 0)
    ret = throw_errno(env, "mount", errno);
out:
  for (int i = 0; i < 4; i++) free(s[i]);
  return ret;
}

// For the calls that take one path or name: run `call` on the string, free it, report failure.
#define WITH_STRING(i, var, call, syscall)                      \
  char *var = str_arg(env, argv[i], #var);                      \
  if (var == NULL) return NULL;                                 \
  int r = (call), err = errno;                                  \
  free(var);                                                    \
  return r < 0 ? throw_errno(env, syscall, err) : NULL

static napi_value do_umount(napi_env env, napi_callback_info info) {
  ARGS(2);
  INT_ARG(1, flags, 0, INT32_MAX);
  WITH_STRING(0, target, umount2(target, (int)flags), "umount2");
}

static napi_value set_hostname(napi_env env, napi_callback_info info) {
  ARGS(1);
  WITH_STRING(0, name, sethostname(name, strlen(name)), "sethostname");
}

static napi_value do_swapon(napi_env env, napi_callback_info info) {
  ARGS(2);
  INT_ARG(1, flags, 0, INT32_MAX);
  WITH_STRING(0, path, swapon(path, (int)flags), "swapon");
}

static napi_value do_reboot(napi_env env, napi_callback_info info) {
  ARGS(1);
  char mode[16] = "";
  int cmd;
  napi_get_value_string_utf8(env, argv[0], mode, sizeof mode, NULL);  // a non-string leaves ""
  if (strcmp(mode, "poweroff") == 0) cmd = RB_POWER_OFF;
  else if (strcmp(mode, "restart") == 0) cmd = RB_AUTOBOOT;
  else if (strcmp(mode, "halt") == 0) cmd = RB_HALT_SYSTEM;
  else {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "mode must be \"poweroff\", \"restart\" or \"halt\"");
    return NULL;
  }
  sync();  // reboot(2) does not flush dirty pages itself
  CHECK(reboot(cmd), "reboot");
  return NULL;
}

// Sets IFF_UP on a network interface (PID 1 brings up lo before anything else can run `ip`).
static napi_value link_up(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct ifreq ifr = {0};
  napi_get_value_string_utf8(env, argv[0], ifr.ifr_name, IFNAMSIZ, NULL);  // truncates at 15
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(fd, "socket");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) return close_fail(env, fd, "SIOCGIFFLAGS", errno);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) return close_fail(env, fd, "SIOCSIFFLAGS", errno);
  close(fd);
  return NULL;
}

static napi_value set_time_of_day(napi_env env, napi_callback_info info) {
  ARGS(2);
  // Only "is an integer" here; the kernel judges the range (EINVAL), so callers see one error.
  INT_ARG(0, sec, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER);
  INT_ARG(1, usec, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER);
  struct timeval tv = {.tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec};
  CHECK(settimeofday(&tv, NULL), "settimeofday");
  return NULL;
}

// Mixes the host's seed into the pool, credits it (root only) and reseeds the CRNG at once, as the
// upstream agent does, so a fresh VM's getrandom() has good randomness from the start.
static napi_value add_random_entropy(napi_env env, napi_callback_info info) {
  ARGS(1);
  napi_typedarray_type type;
  size_t len;
  void *data;
  napi_status st = napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL);
  if (st != napi_ok || type != napi_uint8_array) {  // Buffers are Uint8Arrays too
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a Uint8Array");
    return NULL;
  }
  int fd = open("/dev/random", O_WRONLY | O_CLOEXEC);
  CHECK(fd, "open");
  for (size_t done = 0; done < len;) {
    ssize_t n = write(fd, (char *)data + done, len - done);
    if (n < 0 && errno != EINTR) return close_fail(env, fd, "write", errno);
    if (n > 0) done += (size_t)n;
  }
  int bits = len > INT32_MAX / 8 ? INT32_MAX : (int)(8 * len);
  if (ioctl(fd, RNDADDTOENTCNT, &bits) < 0) return close_fail(env, fd, "ioctl", errno);
  if (ioctl(fd, RNDRESEEDCRNG) < 0) return close_fail(env, fd, "ioctl", errno);
  close(fd);
  return NULL;
}

// Gives free malloc memory back to the kernel. glibc returns only the top of its heap on its own;
// after a burst of large requests is collected, the agent's heap is mostly free chunks below
// live ones, which stay resident until this (MADV_DONTNEED on every free page). True when some
// memory was released.
static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
#ifdef __GLIBC__
  int released = malloc_trim(0);
#else
  int released = 0;  // other C libraries: nothing to do
#endif
  napi_value out;
  napi_get_boolean(env, released != 0, &out);
  return out;
}

// ---- module ---------------------------------------------------------------------------------

#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
#define CONST(name) {#name, NULL, NULL, NULL, NULL, int_value(env, name), napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      FN("vsockListen", vsock_listen), FN("vsockConnect", vsock_connect),
      FN("setChildSubreaper", set_child_subreaper), FN("waitpid", wait_pid),
      FN("zombieChildren", zombie_children), FN("setsid", set_sid),
      FN("pipe", make_pipe), FN("setPipeSize", set_pipe_size), FN("recvFd", recv_fd),
      FN("setWinsize", set_winsize), FN("openPty", open_pty),
      FN("setControllingTty", set_controlling_tty), FN("mount", do_mount), FN("umount", do_umount),
      FN("sethostname", set_hostname), FN("reboot", do_reboot),
      FN("settimeofday", set_time_of_day), FN("swapon", do_swapon),
      FN("addRandomEntropy", add_random_entropy), FN("linkUp", link_up),
      FN("vsockPeer", vsock_peer), FN("vsockLocalCid", vsock_local_cid),
      FN("spawnInSession", spawn_in_session), FN("sendDatagram", send_datagram),
      FN("trimHeap", trim_heap),
      CONST(MS_RDONLY), CONST(MS_NOSUID), CONST(MS_NODEV), CONST(MS_NOEXEC), CONST(MS_REMOUNT),
      CONST(MS_BIND), CONST(MS_REC), CONST(MS_PRIVATE), CONST(MS_SLAVE), CONST(MS_SHARED),
      CONST(MS_STRICTATIME), CONST(MS_RELATIME), CONST(MS_MOVE), CONST(MNT_DETACH),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
