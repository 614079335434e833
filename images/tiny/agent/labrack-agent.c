/*
 * labrack-agent: the tiny image's guest agent. It speaks the part of the QEMU guest agent
 * protocol (JSON objects over the virtio-serial port org.qemu.guest_agent.0) that labrack
 * uses to give a guest restored from a template its own identity: the clock
 * (guest-set-time), root's password (guest-set-user-password, crypted only) and fresh
 * entropy (guest-file-open of /dev/urandom, guest-file-write, guest-file-close; the bytes
 * are credited to the kernel's pool). guest-sync, guest-sync-delimited and guest-ping
 * answer as qemu-ga's do. Anything else is refused with CommandNotFound. Runs as root,
 * started by /sbin/init before the readiness marker.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PORT "/sys/class/virtio-ports"
#define AGENT_NAME "org.qemu.guest_agent.0"
#define MAX_MESSAGE 65536

static int port_fd = -1;
static int urandom_fd = -1;

/* Finds /dev/vportNpM whose name is AGENT_NAME; waits for the port to appear. */
static int open_port(void) {
  char path[256], name[128];
  for (;;) {
    for (int n = 0; n < 4; n++) {
      for (int m = 0; m < 32; m++) {
        snprintf(path, sizeof path, PORT "/vport%dp%d/name", n, m);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int ok = fgets(name, sizeof name, f) != NULL;
        fclose(f);
        name[strcspn(name, "\n")] = 0;
        if (!ok || strcmp(name, AGENT_NAME) != 0) continue;
        snprintf(path, sizeof path, "/dev/vport%dp%d", n, m);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0) return fd;
      }
    }
    usleep(200000);
  }
}

static void send_text(const char *text) {
  size_t len = strlen(text);
  while (len > 0) {
    ssize_t n = write(port_fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    len -= (size_t)n;
  }
}

static void reply(const char *json) {
  send_text(json);
  send_text("\n");
}

static void error_reply(const char *class, const char *desc) {
  char out[512];
  snprintf(out, sizeof out, "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}}", class, desc);
  reply(out);
}

/* The text right after "key": in msg (skipping spaces), or NULL. */
static const char *value_of(const char *msg, const char *key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\"", key);
  const char *p = strstr(msg, pattern);
  if (!p) return NULL;
  p += strlen(pattern);
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* Copies the JSON string value of key into out (no escapes are expected); 0 when absent. */
static int string_of(const char *msg, const char *key, char *out, size_t size) {
  const char *p = value_of(msg, key);
  if (!p || *p != '"') return 0;
  p++;
  size_t i = 0;
  while (*p && *p != '"' && i + 1 < size) {
    if (*p == '\\' && p[1]) p++;
    out[i++] = *p++;
  }
  out[i] = 0;
  return *p == '"';
}

static int int_of(const char *msg, const char *key, long long *out) {
  const char *p = value_of(msg, key);
  if (!p) return 0;
  char *end;
  errno = 0;
  *out = strtoll(p, &end, 10);
  return end != p && errno == 0;
}

static int base64_value(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Decodes base64 text into out; the decoded length, or -1 for bad input. */
static long decode_base64(const char *in, unsigned char *out, size_t size) {
  size_t n = 0;
  unsigned bits = 0;
  int count = 0;
  for (; *in && *in != '='; in++) {
    int v = base64_value((unsigned char)*in);
    if (v < 0) return -1;
    bits = (bits << 6) | (unsigned)v;
    count += 6;
    if (count >= 8) {
      count -= 8;
      if (n >= size) return -1;
      out[n++] = (unsigned char)(bits >> count);
    }
  }
  return (long)n;
}

static void set_time(const char *msg) {
  long long ns;
  if (!int_of(msg, "time", &ns) || ns < 0) {
    error_reply("GenericError", "guest-set-time needs a time in nanoseconds");
    return;
  }
  struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
  if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
    error_reply("GenericError", "clock_settime failed");
    return;
  }
  reply("{\"return\": {}}");
}

/* Replaces the password field of user's line in /etc/shadow by hash. */
static int write_shadow(const char *user, const char *hash) {
  FILE *in = fopen("/etc/shadow", "r");
  if (!in) return -1;
  FILE *out = fopen("/etc/shadow.labrack", "w");
  if (!out) {
    fclose(in);
    return -1;
  }
  char line[1024];
  size_t ulen = strlen(user);
  int found = 0;
  while (fgets(line, sizeof line, in)) {
    if (strncmp(line, user, ulen) == 0 && line[ulen] == ':') {
      const char *rest = strchr(line + ulen + 1, ':');
      fprintf(out, "%s:%s%s", user, hash, rest ? rest : ":\n");
      found = 1;
    } else {
      fputs(line, out);
    }
  }
  fclose(in);
  int ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
  fclose(out);
  chmod("/etc/shadow.labrack", 0600);
  if (!found || !ok || rename("/etc/shadow.labrack", "/etc/shadow") != 0) {
    unlink("/etc/shadow.labrack");
    return -1;
  }
  return 0;
}

static void set_password(const char *msg) {
  char user[64], b64[1024];
  unsigned char hash[768];
  const char *crypted = value_of(msg, "crypted");
  if (!string_of(msg, "username", user, sizeof user) ||
      !string_of(msg, "password", b64, sizeof b64) || !crypted || strncmp(crypted, "true", 4) != 0) {
    error_reply("GenericError", "guest-set-user-password needs username and a crypted password");
    return;
  }
  long n = decode_base64(b64, hash, sizeof hash - 1);
  if (n <= 0 || strchr(user, ':') || memchr(hash, ':', (size_t)n) || memchr(hash, '\n', (size_t)n)) {
    error_reply("GenericError", "the password hash is not usable");
    return;
  }
  hash[n] = 0;
  if (write_shadow(user, (const char *)hash) != 0) {
    error_reply("GenericError", "cannot write /etc/shadow for that user");
    return;
  }
  reply("{\"return\": {}}");
}

static void file_open(const char *msg) {
  char path[256];
  if (!string_of(msg, "path", path, sizeof path) || strcmp(path, "/dev/urandom") != 0) {
    error_reply("GenericError", "labrack-agent opens /dev/urandom only");
    return;
  }
  if (urandom_fd < 0) urandom_fd = open(path, O_WRONLY | O_CLOEXEC);
  if (urandom_fd < 0) {
    error_reply("GenericError", "cannot open /dev/urandom");
    return;
  }
  reply("{\"return\": 1}");
}

static void file_write(const char *msg) {
  long long handle;
  static char b64[MAX_MESSAGE];
  static unsigned char buf[sizeof(struct rand_pool_info) + MAX_MESSAGE];
  struct rand_pool_info *pool = (struct rand_pool_info *)buf;
  if (!int_of(msg, "handle", &handle) || handle != 1 || urandom_fd < 0 ||
      !string_of(msg, "buf-b64", b64, sizeof b64)) {
    error_reply("GenericError", "guest-file-write needs the handle of /dev/urandom and buf-b64");
    return;
  }
  long n = decode_base64(b64, (unsigned char *)pool->buf, MAX_MESSAGE / 2);
  if (n < 0) {
    error_reply("GenericError", "buf-b64 is not base64");
    return;
  }
  pool->buf_size = (int)n;
  pool->entropy_count = (int)n * 8;
  /* Mixed in and credited, so that the kernel reseeds from bytes this copy alone has. */
  if (ioctl(urandom_fd, RNDADDENTROPY, pool) != 0 &&
      write(urandom_fd, pool->buf, (size_t)n) != (ssize_t)n) {
    error_reply("GenericError", "cannot add entropy");
    return;
  }
  char out[96];
  snprintf(out, sizeof out, "{\"return\": {\"count\": %ld, \"eof\": false}}", n);
  reply(out);
}

static void file_close(void) {
  if (urandom_fd >= 0) close(urandom_fd);
  urandom_fd = -1;
  reply("{\"return\": {}}");
}

static void handle(const char *msg) {
  char command[64];
  if (!string_of(msg, "execute", command, sizeof command)) {
    error_reply("GenericError", "no execute");
    return;
  }
  long long id;
  char out[96];
  if (strcmp(command, "guest-sync") == 0 || strcmp(command, "guest-sync-delimited") == 0) {
    if (!int_of(msg, "id", &id)) {
      error_reply("GenericError", "guest-sync needs an id");
      return;
    }
    if (command[10] == '-') send_text("\xff");
    snprintf(out, sizeof out, "{\"return\": %lld}", id);
    reply(out);
  } else if (strcmp(command, "guest-ping") == 0) {
    reply("{\"return\": {}}");
  } else if (strcmp(command, "guest-set-time") == 0) {
    set_time(msg);
  } else if (strcmp(command, "guest-set-user-password") == 0) {
    set_password(msg);
  } else if (strcmp(command, "guest-file-open") == 0) {
    file_open(msg);
  } else if (strcmp(command, "guest-file-write") == 0) {
    file_write(msg);
  } else if (strcmp(command, "guest-file-close") == 0) {
    file_close();
  } else {
    error_reply("CommandNotFound", "labrack-agent does not know that command");
  }
}

int main(void) {
  static char msg[MAX_MESSAGE + 1];
  size_t len = 0;
  int depth = 0, in_string = 0, escaped = 0;
  port_fd = open_port();
  /* /sbin/init waits for this before it prints the readiness marker, so that a guest saved
     at its marker always has its agent's port open. */
  close(open("/run/labrack-agent.ready", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  for (;;) {
    char chunk[4096];
    ssize_t n = read(port_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      /* The host side went away (or was never there): wait for it. */
      usleep(100000);
      continue;
    }
    for (ssize_t i = 0; i < n; i++) {
      char c = chunk[i];
      if (depth == 0 && c != '{') continue; /* 0xff delimiters, newlines, junk */
      if (len < MAX_MESSAGE) msg[len++] = c;
      if (in_string) {
        if (escaped) escaped = 0;
        else if (c == '\\') escaped = 1;
        else if (c == '"') in_string = 0;
      } else if (c == '"') {
        in_string = 1;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        msg[len] = 0;
        if (len < MAX_MESSAGE) handle(msg);
        else error_reply("GenericError", "message too long");
        len = 0;
      }
    }
  }
}
