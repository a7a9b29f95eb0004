/*
 * kata-agent-snapshot-check STAMP [NODE-FLAG...]
 *
 * Says (exit status 0) whether the agent's start-up snapshot may be used: node aborts, or even
 * crashes, on a snapshot blob made by another build of node, with other V8 flags, or that is
 * damaged, and as PID 1 that would panic the guest. So the wrapper that starts the agent asks
 * this first, and loads the agent from its bundle instead unless every file named in the stamp
 * (written by kata-build when it made the blob) is still what the blob was made from:
 *
 *   kata-agent-snapshot 1
 *   flags <the node flags, space-separated>
 *   full <size> <hash> <path>      the whole file (the blob, the bundle's entry)
 *   sample <size> <hash> <path>    its first and last 8 KiB (node and its libraries: ELF
 *                                  headers and build-id notes differ between builds)
 *
 * The hash is two 32-bit lanes over little-endian words (see builder/src/util/sample-hash.ts,
 * which must agree): cheap under emulation, and for noticing a changed or damaged file, not
 * for security (dm-verity protects the image). Exit 1 with a reason on stderr when the
 * snapshot must not be used; exit 1 quietly when there is no stamp; 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAMPLE_BYTES 8192
#define WHY "kata-agent: start-up snapshot not used: "
#define CHUNK (1 << 16)

struct lanes {
  uint32_t a, b;
};

static void mix(struct lanes *h, const unsigned char *p, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t w = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
    h->a = (h->a ^ w) * 0x01000193u;
    h->b = ((h->b << 5) | (h->b >> 27)) ^ w;
    h->b *= 0x9e3779b1u;
  }
  if (i < n) {
    unsigned char tail[4] = {0, 0, 0, 0};
    memcpy(tail, p + i, n - i);
    mix(h, tail, 4);
  }
}

/* Reads [offset, offset+len) into the hash; a file that ends early is a mismatch. */
static int hash_range(int fd, off_t offset, off_t len, struct lanes *h) {
  static unsigned char buf[CHUNK];
  while (len > 0) {
    size_t want = len < CHUNK ? (size_t)len : CHUNK;
    ssize_t got = pread(fd, buf, want, offset);
    if (got <= 0) return -1;
    /* Ranges are hashed in whole words: a chunk boundary is always a multiple of 4. */
    mix(h, buf, (size_t)got);
    offset += got;
    len -= got;
  }
  return 0;
}

/* 0 if `path` has `size` bytes and hashes to `expected` (whole or sampled). */
static int check_file(const char *kind, const char *path, long long size, const char *expected) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, WHY "%s: %s\n", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || (long long)st.st_size != size) {
    fprintf(stderr, WHY "%s has changed size since the snapshot was made\n", path);
    close(fd);
    return -1;
  }
  struct lanes h = {0x811c9dc5u, 0x2545f491u};
  int failed;
  if (strcmp(kind, "full") == 0 || size <= 2 * SAMPLE_BYTES) {
    failed = hash_range(fd, 0, size, &h);
  } else {
    failed = hash_range(fd, 0, SAMPLE_BYTES, &h) || hash_range(fd, size - SAMPLE_BYTES, SAMPLE_BYTES, &h);
  }
  close(fd);
  unsigned char len[8];
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)((unsigned long long)size >> (8 * i));
  mix(&h, len, 8);
  char actual[17];
  snprintf(actual, sizeof actual, "%08x%08x", h.a, h.b);
  if (failed || strcmp(actual, expected) != 0) {
    fprintf(stderr, WHY "%s has changed since the snapshot was made\n", path);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kata-agent-snapshot-check STAMP [NODE-FLAG...]\n");
    return 2;
  }
  FILE *stamp = fopen(argv[1], "re");
  if (!stamp) return 1;

  /* The flags the wrapper will pass, as one space-separated string, must be the stamp's. */
  char flags[4096] = "";
  for (int i = 2; i < argc; i++) {
    if (strlen(flags) + strlen(argv[i]) + 2 > sizeof flags) return 2;
    if (i > 2) strcat(flags, " ");
    strcat(flags, argv[i]);
  }

  char line[8192];
  int version_seen = 0, flags_seen = 0, files = 0;
  while (fgets(line, sizeof line, stamp)) {
    line[strcspn(line, "\n")] = 0;
    if (strcmp(line, "kata-agent-snapshot 1") == 0) {
      version_seen = 1;
    } else if (strncmp(line, "flags", 5) == 0 && (line[5] == ' ' || line[5] == 0)) {
      flags_seen = 1;
      const char *made = line[5] ? line + 6 : "";
      if (strcmp(made, flags) != 0) {
        fprintf(stderr, WHY "it was made for node flags '%s', not '%s'\n", made, flags);
        fclose(stamp);
        return 1;
      }
    } else {
      char kind[8], hash[17];
      long long size;
      int consumed = 0;
      if (sscanf(line, "%7s %lld %16s %n", kind, &size, hash, &consumed) != 3 || consumed == 0 ||
          (strcmp(kind, "full") != 0 && strcmp(kind, "sample") != 0)) {
        fprintf(stderr, WHY "%s: unreadable line '%s'\n", argv[1], line);
        fclose(stamp);
        return 1;
      }
      if (check_file(kind, line + consumed, size, hash) != 0) {
        fclose(stamp);
        return 1;
      }
      files++;
    }
  }
  fclose(stamp);
  if (!version_seen || !flags_seen || files == 0) {
    fprintf(stderr, WHY "%s is not a complete kata-agent-snapshot 1 stamp\n", argv[1]);
    return 1;
  }
  return 0;
}
