// sock_diag: the kernel's TCP and UDP socket tables through NETLINK_SOCK_DIAG (man 7 sock_diag), for
// process attribution. Unlike /proc/net/tcp, the request names the states wanted and the kernel filters
// them, so a host holding thousands of TIME_WAIT sockets costs nothing to skip them.
//
// dump(family, protocol, states) -> Buffer of RECORD_BYTES-byte records, one per socket in `states`;
// lookup(...) -> the one socket the kernel's lookup finds for a connection (see js_lookup). A record:
//   [0] family (AF_INET / AF_INET6)  [1] state  [2..3] local port  [4..5] remote port (host order, LE)
//   [8..23] local address  [24..39] remote address (network order; IPv4 in the first 4 bytes)
//   [40..43] uid  [44..47] inode (LE)
// Errors throw an Error whose `code` is the errno name (EACCES, ENOENT when the kernel has no diag module
// for the protocol, ...).

#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RECORD_BYTES 48
#define RECV_BYTES (64 * 1024)

typedef struct {
  uint8_t *data;
  size_t used;
  size_t cap;
} records_t;

static int records_add(records_t *r, const struct inet_diag_msg *m) {
  if (r->used + RECORD_BYTES > r->cap) {
    size_t cap = r->cap == 0 ? 64 * RECORD_BYTES : r->cap * 2;
    uint8_t *grown = realloc(r->data, cap);
    if (grown == NULL) return ENOMEM;
    r->data = grown;
    r->cap = cap;
  }
  uint8_t *p = r->data + r->used;
  memset(p, 0, RECORD_BYTES);
  uint16_t sport = ntohs(m->id.idiag_sport);
  uint16_t dport = ntohs(m->id.idiag_dport);
  p[0] = m->idiag_family;
  p[1] = m->idiag_state;
  p[2] = sport & 0xff;
  p[3] = sport >> 8;
  p[4] = dport & 0xff;
  p[5] = dport >> 8;
  memcpy(p + 8, m->id.idiag_src, 16);
  memcpy(p + 24, m->id.idiag_dst, 16);
  for (int i = 0; i < 4; i++) {
    p[40 + i] = (m->idiag_uid >> (8 * i)) & 0xff;
    p[44 + i] = (m->idiag_inode >> (8 * i)) & 0xff;
  }
  r->used += RECORD_BYTES;
  return 0;
}

/**
 * Sends one request (a dump of every socket in `states`, or with `one` the socket the kernel's own lookup
 * finds for the id in `one`) and collects every answer; returns 0 or an errno.
 */
static int request(int family, int protocol, uint32_t states, const struct inet_diag_sockid *one, records_t *out) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return errno;
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = one == NULL ? NLM_F_REQUEST | NLM_F_DUMP : NLM_F_REQUEST;
  msg.nlh.nlmsg_seq = 1;
  msg.req.sdiag_family = (uint8_t)family;
  msg.req.sdiag_protocol = (uint8_t)protocol;
  msg.req.idiag_states = states;
  if (one != NULL) msg.req.id = *one;
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  int err = 0;
  if (sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    err = errno;
    close(fd);
    return err;
  }
  // Aligned for struct nlmsghdr, as NLMSG_NEXT expects.
  uint32_t *buf = malloc(RECV_BYTES);
  if (buf == NULL) {
    close(fd);
    return ENOMEM;
  }
  int done = 0;
  while (!done && err == 0) {
    ssize_t n = recv(fd, buf, RECV_BYTES, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        // A dump that failed part-way (no diag module for the protocol, ...) says so in DONE's payload.
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
          int status = *(const int *)NLMSG_DATA(h);
          if (status < 0) err = -status;
        }
        done = 1;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        err = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error != 0 ? -e->error : EPROTO;
        break;
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      err = records_add(out, NLMSG_DATA(h));
      if (err != 0) break;
      // A single lookup is answered by one message, without NLMSG_DONE.
      if (one != NULL) done = 1;
    }
  }
  free(buf);
  close(fd);
  return err;
}

static const char *errno_name(int err) {
  switch (err) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTO: return "EPROTO";
    default: return "EIO";
  }
}

static napi_value records_result(napi_env env, records_t *rec, int err);

static napi_value js_dump(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "dump(family, protocol, states)");
    return NULL;
  }
  int32_t family, protocol;
  uint32_t states;
  if (napi_get_value_int32(env, argv[0], &family) != napi_ok || napi_get_value_int32(env, argv[1], &protocol) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &states) != napi_ok) {
    napi_throw_type_error(env, NULL, "dump(family, protocol, states): numbers expected");
    return NULL;
  }
  records_t r = {NULL, 0, 0};
  int err = request(family, protocol, states, NULL, &r);
  return records_result(env, &r, err);
}

/**
 * lookup(family, protocol, local, localPort, remote, remotePort) -> one record, or null when the kernel finds
 * no socket: the socket its own lookup picks for a packet of this connection (the connected one, else the one
 * bound or listening on the local side). Addresses are 16-byte Buffers (IPv4 in the first 4 bytes).
 */
static napi_value js_lookup(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t family, protocol;
  uint32_t local_port, remote_port;
  void *local, *remote;
  size_t local_len, remote_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 ||
      napi_get_value_int32(env, argv[0], &family) != napi_ok || napi_get_value_int32(env, argv[1], &protocol) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &local, &local_len) != napi_ok || napi_get_value_uint32(env, argv[3], &local_port) != napi_ok ||
      napi_get_buffer_info(env, argv[4], &remote, &remote_len) != napi_ok || napi_get_value_uint32(env, argv[5], &remote_port) != napi_ok ||
      local_len != 16 || remote_len != 16 || local_port > 0xffff || remote_port > 0xffff) {
    napi_throw_type_error(env, NULL, "lookup(family, protocol, local: 16 bytes, localPort, remote: 16 bytes, remotePort)");
    return NULL;
  }
  struct inet_diag_sockid id;
  memset(&id, 0, sizeof id);
  id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  // TCP looks up (src = local, dst = remote); UDP the other way round ("swapped for historical reasons", udp_diag.c).
  int udp = protocol == IPPROTO_UDP;
  memcpy(udp ? id.idiag_dst : id.idiag_src, local, 16);
  memcpy(udp ? id.idiag_src : id.idiag_dst, remote, 16);
  id.idiag_sport = htons((uint16_t)(udp ? remote_port : local_port));
  id.idiag_dport = htons((uint16_t)(udp ? local_port : remote_port));
  records_t r = {NULL, 0, 0};
  int err = request(family, protocol, 0xffffffffu, &id, &r);
  if (err == ENOENT) {
    free(r.data);
    napi_value null_value;
    napi_get_null(env, &null_value);
    return null_value;
  }
  return records_result(env, &r, err);
}

/** The records as a Buffer (freeing them), or the error thrown. */
static napi_value records_result(napi_env env, records_t *rec, int err) {
  records_t r = *rec;
  if (err != 0) {
    free(r.data);
    napi_throw_error(env, errno_name(err), errno_name(err));
    return NULL;
  }
  napi_value result;
  void *copy;
  napi_status st = napi_create_buffer_copy(env, r.used, r.used > 0 ? (const void *)r.data : (const void *)"", &copy, &result);
  free(r.data);
  if (st != napi_ok) {
    napi_throw_error(env, "ENOMEM", "ENOMEM");
    return NULL;
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "dump", NAPI_AUTO_LENGTH, js_dump, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "dump", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "lookup", NAPI_AUTO_LENGTH, js_lookup, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lookup", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
