// SPDX-License-Identifier: MIT
/*
 * dnszone.c - static DNS zones (dns-zone=ZONE/NAME=IP...), answered before
 *	       a query reaches the resolver
 *
 * DOC: Theory of Operation
 *
 * Every dns-zone= value adds a zone apex and A/AAAA records to one set.
 * Names are kept in DNS wire form (length-prefixed labels, lower case), so a
 * query name is compared byte for byte after folding its case, and a dot
 * inside a label can never pass for a label boundary.
 *
 * A query is ours if its name is a zone apex or below one.  Then the answer
 * is authoritative: the records of the asked type (A or AAAA), or none with
 * NOERROR if the name exists (has records of another type, is an apex, or
 * has names below it), or NXDOMAIN.  Anything else (other names, other
 * classes, opcodes other than QUERY, more than one question, malformed
 * messages) is left to the resolver.  Answers name the question by a
 * compression pointer; no SOA is sent with negative answers, so resolvers
 * do not cache them.  Replies stay within 512 bytes (no EDNS), setting TC if
 * the records do not fit.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dnszone.h"

#define NAME_WIRE_MAX	255	/* RFC 1035 2.3.4, the final 0 included */
#define LABEL_MAX	63
#define DNS_HLEN	12
#define DNS_UDP_MAX	512
#define PTR_JUMPS_MAX	16	/* compression pointers followed in a name */
#define TYPE_A		1
#define TYPE_AAAA	28
#define CLASS_IN	1
#define RCODE_NXDOMAIN	3

/**
 * struct dz_name - a domain name in wire form, lower case
 * @len:	bytes in @w, the final 0 included
 * @w:		the labels
 */
struct dz_name {
	size_t len;
	uint8_t w[NAME_WIRE_MAX];
};

/**
 * struct dz_rec - one A or AAAA record
 * @name:	its owner
 * @type:	TYPE_A or TYPE_AAAA
 * @addr:	4 or 16 bytes
 */
struct dz_rec {
	struct dz_name name;
	uint16_t type;
	uint8_t addr[16];
};

/**
 * struct dnszone_set - every zone and record of every dns-zone= value
 * @zones, @nzones:	zone apexes
 * @recs, @nrecs:	records
 */
struct dnszone_set {
	struct dz_name *zones;
	size_t nzones;
	struct dz_rec *recs;
	size_t nrecs;
};

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/**
 * name_append() - append dotted text as labels to a wire name being built
 * @n:		the name so far (@n->len bytes, no final 0 yet)
 * @s, @len:	the text, no leading or trailing dot
 *
 * Return: NULL, or why the text is not a name
 */
static const char *name_append(struct dz_name *n, const char *s, size_t len)
{
	size_t i = 0;

	while (i <= len) {
		size_t l = 0;

		while (i + l < len && s[i + l] != '.')
			l++;
		if (l == 0)
			return "empty label";
		if (l > LABEL_MAX)
			return "label longer than 63 characters";
		if (n->len + 1 + l + 1 > NAME_WIRE_MAX)
			return "name longer than 255 bytes";
		n->w[n->len++] = (uint8_t)l;
		for (size_t k = 0; k < l; k++) {
			if (!name_char_ok(s[i + k]))
				return "only letters, digits, '-' and '_' are allowed";
			n->w[n->len++] = lower((uint8_t)s[i + k]);
		}
		i += l + 1;
	}
	return NULL;
}

static bool name_eq(const struct dz_name *a, const struct dz_name *b)
{
	return a->len == b->len && !memcmp(a->w, b->w, a->len);
}

/* @sfx is @n or the name of one of its ancestors */
static bool name_under(const struct dz_name *n, const struct dz_name *sfx)
{
	for (size_t off = 0; off < n->len; off += 1 + (size_t)n->w[off]) {
		if (n->len - off == sfx->len && !memcmp(n->w + off, sfx->w, sfx->len))
			return true;
		if (!n->w[off])
			break;
	}
	return false;
}

static int spec_record(struct dnszone_set *set, const struct dz_name *zone, const char *spec,
		       const char *r, size_t rlen, struct errbuf *err)
{
	const char *eq = memchr(r, '=', rlen);
	struct dz_rec rec = { 0 };
	char ip[INET6_ADDRSTRLEN + 1];
	size_t nlen, iplen;
	struct dz_rec *recs;

	if (!rlen)
		return err_set(err, "dns-zone: \"%s\": empty record (ZONE/NAME=IP...)", spec);
	if (!eq)
		return err_set(err, "dns-zone: \"%s\": record \"%.*s\" is not NAME=IP", spec,
			       (int)rlen, r);
	nlen = (size_t)(eq - r);
	iplen = rlen - nlen - 1;
	if (nlen == 1 && r[0] == '@') {
		rec.name = *zone;
	} else {
		const char *why = name_append(&rec.name, r, nlen);

		if (!why && zone->len + rec.name.len > NAME_WIRE_MAX)
			why = "name longer than 255 bytes";
		if (why)
			return err_set(err, "dns-zone: \"%s\": bad name \"%.*s\": %s", spec,
				       (int)nlen, r, why);
		memcpy(rec.name.w + rec.name.len, zone->w, zone->len);
		rec.name.len += zone->len;
	}
	if (iplen < sizeof(ip)) {
		memcpy(ip, eq + 1, iplen);
		ip[iplen] = '\0';
	}
	if (iplen < sizeof(ip) && inet_pton(AF_INET, ip, rec.addr) == 1)
		rec.type = TYPE_A;
	else if (iplen < sizeof(ip) && inet_pton(AF_INET6, ip, rec.addr) == 1)
		rec.type = TYPE_AAAA;
	else
		return err_set(err, "dns-zone: \"%s\": not an IPv4 or IPv6 address: \"%.*s\"", spec,
			       (int)iplen, eq + 1);
	for (size_t i = 0; i < set->nrecs; i++)
		if (set->recs[i].type == rec.type && name_eq(&set->recs[i].name, &rec.name) &&
		    !memcmp(set->recs[i].addr, rec.addr, sizeof(rec.addr)))
			return 0;
	recs = realloc(set->recs, (set->nrecs + 1) * sizeof(*recs));
	if (!recs)
		return err_set(err, "dns-zone: \"%s\": out of memory", spec);
	set->recs = recs;
	set->recs[set->nrecs++] = rec;
	return 0;
}

static int spec_parse(struct dnszone_set *set, const char *spec, struct errbuf *err)
{
	const char *slash = strchr(spec, '/'), *why, *r;
	size_t zlen = slash ? (size_t)(slash - spec) : strlen(spec);
	struct dz_name zone = { 0 };
	struct dz_name *zones;
	bool known = false;

	if (zlen && spec[zlen - 1] == '.')
		zlen--;
	why = name_append(&zone, spec, zlen);
	if (why)
		return err_set(err, "dns-zone: \"%s\": bad zone name \"%.*s\": %s", spec, (int)zlen,
			       spec, why);
	zone.w[zone.len++] = 0;
	if (!slash || !slash[1])
		return err_set(err, "dns-zone: \"%s\": no records (ZONE/NAME=IP...)", spec);
	for (r = slash + 1;;) {
		const char *end = strchr(r, '/');
		size_t rlen = end ? (size_t)(end - r) : strlen(r);

		if (spec_record(set, &zone, spec, r, rlen, err) < 0)
			return -1;
		if (!end)
			break;
		r = end + 1;
	}
	for (size_t i = 0; i < set->nzones; i++)
		known |= name_eq(&set->zones[i], &zone);
	if (known)
		return 0;
	zones = realloc(set->zones, (set->nzones + 1) * sizeof(*zones));
	if (!zones)
		return err_set(err, "dns-zone: \"%s\": out of memory", spec);
	set->zones = zones;
	set->zones[set->nzones++] = zone;
	return 0;
}

/**
 * dnszone_add() - add one dns-zone= value to a set
 * @set:	the set; made if *@set is NULL
 * @spec:	ZONE/NAME=IP[/NAME=IP...]; NAME is relative to ZONE, "@" is
 *		ZONE itself, IP an IPv4 or IPv6 address
 * @err:	the reason if @spec is bad
 *
 * Nothing is added unless all of @spec is good.
 *
 * Return: 0, or -1 with a one-line message in @err
 */
int dnszone_add(struct dnszone_set **set, const char *spec, struct errbuf *err)
{
	struct dnszone_set *s = *set;
	size_t nzones, nrecs;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			err_set(err, "dns-zone: \"%s\": out of memory", spec);
			return -1;
		}
	}
	nzones = s->nzones;
	nrecs = s->nrecs;
	if (spec_parse(s, spec, err) < 0) {
		s->nzones = nzones;
		s->nrecs = nrecs;
		if (!*set)
			dnszone_free(s);
		return -1;
	}
	*set = s;
	return 0;
}

/**
 * dnszone_free() - free a set
 * @set:	the set (NULL: nothing)
 */
void dnszone_free(struct dnszone_set *set)
{
	if (!set)
		return;
	free(set->zones);
	free(set->recs);
	free(set);
}

/**
 * query_name() - read a name from a message, following compression pointers
 * @m, @len:	the message
 * @off:	where the name starts
 * @orig:	the name as sent (case kept, pointers resolved)
 * @fold:	the same in lower case
 * @next:	set to the offset after the name where it starts
 *
 * Pointers must point backwards and are followed at most PTR_JUMPS_MAX
 * times, so a looping name ends.
 *
 * Return: 0, -1 if the name is malformed or runs past @len
 */
static int query_name(const uint8_t *m, size_t len, size_t off, struct dz_name *orig,
		      struct dz_name *fold, size_t *next)
{
	size_t pos = off;
	int jumps = 0;

	orig->len = 0;
	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -1;
		c = m[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len)
				return -1;
			to = (size_t)(c & 0x3f) << 8 | m[pos + 1];
			if (!jumps)
				*next = pos + 2;
			if (to >= pos || ++jumps > PTR_JUMPS_MAX)
				return -1;
			pos = to;
			continue;
		}
		if (c > LABEL_MAX)
			return -1;	/* 0x40, 0x80: extended label types */
		if (orig->len + 1 + c > NAME_WIRE_MAX || len - pos < 1 + (size_t)c)
			return -1;
		memcpy(orig->w + orig->len, m + pos, 1 + (size_t)c);
		orig->len += 1 + (size_t)c;
		pos += 1 + (size_t)c;
		if (!c)
			break;
	}
	if (!jumps)
		*next = pos;
	fold->len = orig->len;
	for (size_t i = 0; i < orig->len; i++)
		fold->w[i] = lower(orig->w[i]);
	return 0;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/**
 * dnszone_answer() - answer a query from the static zones
 * @set:	the zones (NULL: none)
 * @q, @qlen:	a DNS query message (a UDP payload)
 * @out, @cap:	where to build the response
 *
 * Return: the response's length, 0 if the name is in no zone, the query is
 * not a plain one-question IN query, it is malformed, or @cap is too small.
 */
size_t dnszone_answer(const struct dnszone_set *set, const uint8_t *q, size_t qlen, uint8_t *out,
		      size_t cap)
{
	size_t next = 0, n, lim = cap < DNS_UDP_MAX ? cap : DNS_UDP_MAX;
	struct dz_name orig, name;
	bool zone = false, exists = false;
	uint16_t qtype, ancount = 0;
	uint8_t rcode;

	if (!set || qlen < DNS_HLEN || (q[2] & 0xf8) || get16(q + 4) != 1)
		return 0;	/* a response, not QUERY, or QDCOUNT != 1 */
	if (query_name(q, qlen, DNS_HLEN, &orig, &name, &next) < 0 || qlen - next < 4)
		return 0;
	qtype = get16(q + next);
	if (get16(q + next + 2) != CLASS_IN)
		return 0;
	for (size_t i = 0; i < set->nzones && !zone; i++)
		zone = name_under(&name, &set->zones[i]);
	if (!zone)
		return 0;
	for (size_t i = 0; i < set->nzones && !exists; i++)
		exists = name_eq(&name, &set->zones[i]);
	for (size_t i = 0; i < set->nrecs && !exists; i++)
		exists = name_under(&set->recs[i].name, &name);
	rcode = exists ? 0 : RCODE_NXDOMAIN;

	n = DNS_HLEN + orig.len + 4;
	if (n > lim)
		return 0;
	memcpy(out, q, 2);
	out[2] = 0x80 | 0x04 | (q[2] & 0x01);	/* QR, AA, RD as asked */
	out[3] = 0x80 | rcode;			/* RA: others go to the resolver */
	put16(out + 4, 1);
	memset(out + 6, 0, 6);
	memcpy(out + DNS_HLEN, orig.w, orig.len);
	put16(out + DNS_HLEN + orig.len, qtype);
	put16(out + DNS_HLEN + orig.len + 2, CLASS_IN);
	for (size_t i = 0; i < set->nrecs && exists; i++) {
		const struct dz_rec *r = &set->recs[i];
		size_t alen = r->type == TYPE_A ? 4 : 16;

		if (r->type != qtype || !name_eq(&r->name, &name))
			continue;
		if (n + 12 + alen > lim) {
			out[2] |= 0x02;	/* TC */
			break;
		}
		put16(out + n, 0xc000 | DNS_HLEN);
		put16(out + n + 2, r->type);
		put16(out + n + 4, CLASS_IN);
		put16(out + n + 6, 0);
		put16(out + n + 8, DNSZONE_TTL);
		put16(out + n + 10, (uint16_t)alen);
		memcpy(out + n + 12, r->addr, alen);
		n += 12 + alen;
		ancount++;
	}
	put16(out + 6, ancount);
	return n;
}
