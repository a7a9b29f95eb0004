// vsock-probe: can this process reach a Kata agent? Built static at test time (gcc -static) so it
// runs in any container rootfs. It connects, sends one ttrpc request (grpc.Health/Check) and
// says what happened, on one line of stdout:
//   answered        the agent replied (exit 0)
//   closed          the connection was accepted and then closed without a reply (exit 1)
//   error ENAME     connect or I/O failed with that errno (exit 2)
//   timeout         no reply within 5 s (exit 3)
// Usage: vsock-probe vsock CID PORT | vsock-probe unix PATH | vsock-probe local-cid
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what, int err) {
  const char *name = strerrorname_np(err);
  printf("error %s\n", name ? name : "UNKNOWN");
  fprintf(stderr, "vsock-probe: %s: %s\n", what, strerror(err));
  return 2;
}

static int connect_to(int argc, char **argv) {
  int fd;
  if (argc == 4 && strcmp(argv[1], "vsock") == 0) {
    struct sockaddr_vm addr = {.svm_family = AF_VSOCK};
    addr.svm_cid = (unsigned)strtoul(argv[2], NULL, 10);
    addr.svm_port = (unsigned)strtoul(argv[3], NULL, 10);
    struct timeval tv = {.tv_sec = 2};
    if ((fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) return -errno;
    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return -errno;
    return fd;
  }
  if (argc == 3 && strcmp(argv[1], "unix") == 0) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[2]);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return -errno;
    return fd;
  }
  return -EINVAL;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "local-cid") == 0) {
    unsigned cid = 0;
    int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0) return fail("local cid", errno);
    printf("%u\n", cid);
    return 0;
  }
  int fd = connect_to(argc, argv);
  if (fd == -EINVAL) {
    fprintf(stderr, "usage: vsock-probe vsock CID PORT | vsock-probe unix PATH | vsock-probe local-cid\n");
    return 64;
  }
  if (fd < 0) return fail("connect", -fd);

  // A ttrpc frame: length (4 bytes, big endian), stream id 1, type 1 (request), flags 0; then the
  // Request message: service "grpc.Health" (field 1), method "Check" (field 2), an empty payload.
  static const unsigned char request[] = {
      0, 0, 0, 22, 0, 0, 0, 1, 1, 0,
      0x0a, 11, 'g', 'r', 'p', 'c', '.', 'H', 'e', 'a', 'l', 't', 'h',
      0x12, 5, 'C', 'h', 'e', 'c', 'k',
      0x1a, 0,
  };
  if (send(fd, request, sizeof request, MSG_NOSIGNAL) < 0) {
    if (errno == EPIPE || errno == ECONNRESET) return puts("closed"), 1;
    return fail("send", errno);
  }
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int ready = poll(&p, 1, 5000);
  if (ready < 0) return fail("poll", errno);
  if (ready == 0) return puts("timeout"), 3;
  unsigned char header[10];
  ssize_t n = recv(fd, header, sizeof header, MSG_WAITALL);
  if (n == 0 || (n < 0 && errno == ECONNRESET)) return puts("closed"), 1;
  if (n < 0) return fail("recv", errno);
  // A whole frame header for stream 1 of type 2 (response) is an answer.
  if (n == (ssize_t)sizeof header && header[7] == 1 && header[8] == 2) return puts("answered"), 0;
  return puts("closed"), 1;
}
