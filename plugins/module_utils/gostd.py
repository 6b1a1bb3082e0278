# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of Go's standard library whose exact behaviour decides which pull credential the
kubelet uses: ``net/url.Parse`` (host and path only), ``net.SplitHostPort``,
``path/filepath.Match``, ``encoding/base64`` decoding and Go's repair of invalid UTF-8. Pure.

They work on bytes, as Go's strings do. They follow Go as built for the kubelet's module (its
``go 1.24`` line keeps ``GODEBUG=urlstrictcolons=0``, so the last colon of a host starts its port).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import ipaddress

_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Bytes below 0x80 that a host may hold unescaped (shouldEscape(c, encodeHost) is false).
_HOST_BYTES = _ALNUM | frozenset(b"!$&'()*+,;=:[]<>\"-_.~")
_USERINFO = _ALNUM | frozenset(b"-._:~!$&'()*+,;=%@")
_HEX = frozenset(b"0123456789abcdefABCDEF")
# unicode.IsSpace: what strings.TrimSpace removes.
_GO_SPACE = frozenset(u"\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                      u"\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


class GoError(ValueError):
    """Go returned an error here."""


def _unescape(s, mode):
    """net/url's unescape for the modes "host", "zone" and "other" (path, fragment, userinfo)."""
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # %
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise GoError("invalid URL escape")
            if mode == "host" and int(s[i + 1:i + 2], 16) < 8 and s[i:i + 3] != b"%25":
                raise GoError("invalid URL escape")
            if mode == "zone":
                v = int(s[i + 1:i + 3], 16)
                if s[i:i + 3] != b"%25" and v != 0x20 and v < 0x80 and v not in _HOST_BYTES:
                    raise GoError("invalid URL escape")
            i += 3
            continue
        if mode in ("host", "zone") and c < 0x80 and c not in _HOST_BYTES:
            raise GoError("invalid character in host name")
        i += 1
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == 0x25:
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return bytes(out)


def _valid_optional_port(port):
    return port == b"" or (port[:1] == b":" and all(0x30 <= b <= 0x39 for b in port[1:]))


def _parse_addr_v6(text):
    """Whether netip.ParseAddr accepts ``text`` as an IPv6 address (with an optional zone)."""
    address, percent, zone = text.partition(b"%")
    if percent and not zone:
        return False
    try:
        ipaddress.IPv6Address(address.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _parse_host(host):
    bracket = host.rfind(b"[")
    if bracket > 0:
        raise GoError("invalid IP-literal")
    if bracket == 0:
        close = host.rfind(b"]")
        if close < 0:
            raise GoError("missing ']' in host")
        colon_port = host[close + 1:]
        if not _valid_optional_port(colon_port):
            raise GoError("invalid port after host")
        name = host[1:close]
        zone = name.find(b"%25")
        if zone >= 0:
            name = _unescape(name[:zone], "host") + _unescape(name[zone:], "zone")
        else:
            name = _unescape(name, "host")
        if not _parse_addr_v6(name):
            raise GoError("invalid host")
        return b"[" + name + b"]" + colon_port
    if b":" in host and not _valid_optional_port(host[host.rfind(b":"):]):
        raise GoError("invalid port after host")
    return _unescape(host, "host")


def url_host_path(raw):
    """``(host, path)`` of ``url.Parse(raw)`` for a ``scheme://...`` URL (path unescaped, query and
    fragment dropped); GoError where url.Parse fails."""
    before, hash_sign, fragment = raw.partition(b"#")
    if any(b < 0x20 or b == 0x7f for b in before):
        raise GoError("invalid control character in URL")
    scheme, colon, rest = before.partition(b":")
    if not colon or not scheme[:1].isalpha() or not rest.startswith(b"//"):
        raise GoError("not a scheme://authority URL")
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition(b"?")[0]
    authority, slash, path = rest[2:].partition(b"/")
    at = authority.rfind(b"@")
    host = _parse_host(authority[at + 1:])
    if at >= 0:
        userinfo = authority[:at]
        if not all(b in _USERINFO for b in userinfo):
            raise GoError("invalid userinfo")
        for part in userinfo.split(b":", 1):
            _unescape(part, "other")
    path = _unescape(slash + path, "other")
    if hash_sign:
        _unescape(fragment, "other")
    return host, path


def split_host_port(hostport):
    """net.SplitHostPort: ``(host, port)``; GoError where it fails."""
    i = hostport.rfind(b":")
    if i < 0:
        raise GoError("missing port in address")
    j = k = 0
    if hostport[:1] == b"[":
        end = hostport.find(b"]")
        if end < 0 or end + 1 != i:
            raise GoError("bad address")
        host, j, k = hostport[1:end], 1, end + 1
    else:
        host = hostport[:i]
        if b":" in host:
            raise GoError("too many colons in address")
    if b"[" in hostport[j:] or b"]" in hostport[k:]:
        raise GoError("unexpected bracket in address")
    return host, hostport[i + 1:]


def _rune(s):
    """utf8.DecodeRune: ``(rune, size)``; (0xFFFD, 1) for invalid UTF-8 and (0xFFFD, 0) for b""."""
    if not s:
        return 0xFFFD, 0
    if s[0] < 0x80:
        return s[0], 1
    size = 2 if 0xC2 <= s[0] <= 0xDF else 3 if 0xE0 <= s[0] <= 0xEF else 4 if 0xF0 <= s[0] <= 0xF4 else 1
    try:
        return ord(s[:size].decode("utf-8")), size
    except UnicodeDecodeError:
        return 0xFFFD, 1


def go_text(raw):
    """``raw`` as Go turns bytes into text (encoding/json): each invalid byte becomes U+FFFD."""
    out, i = [], 0
    while i < len(raw):
        rune, size = _rune(raw[i:])
        out.append(chr(rune))
        i += size
    return u"".join(out)


def _get_esc(chunk):
    if not chunk or chunk[:1] in (b"-", b"]"):
        raise GoError("syntax error in pattern")
    if chunk[:1] == b"\\":
        chunk = chunk[1:]
        if not chunk:
            raise GoError("syntax error in pattern")
    rune, size = _rune(chunk)
    if (rune == 0xFFFD and size == 1) or not chunk[size:]:
        raise GoError("syntax error in pattern")
    return rune, chunk[size:]


def _match_chunk(chunk, s):
    """``(rest, ok)``, as filepath's matchChunk; GoError for a bad pattern."""
    failed = False
    while chunk:
        failed = failed or not s
        head = chunk[:1]
        if head == b"[":
            rune = 0
            if not failed:
                rune, size = _rune(s)
                s = s[size:]
            chunk = chunk[1:]
            negated = chunk[:1] == b"^"
            if negated:
                chunk = chunk[1:]
            match, ranges = False, 0
            while True:
                if chunk[:1] == b"]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[:1] == b"-":
                    hi, chunk = _get_esc(chunk[1:])
                match = match or lo <= rune <= hi
                ranges += 1
            failed = failed or match == negated
        elif head == b"?":
            if not failed:
                failed = s[:1] == b"/"
                s = s[_rune(s)[1]:]
            chunk = chunk[1:]
        else:
            if head == b"\\":
                chunk = chunk[1:]
                if not chunk:
                    raise GoError("syntax error in pattern")
            if not failed:
                failed = chunk[:1] != s[:1]
                s = s[1:]
            chunk = chunk[1:]
    return (None, False) if failed else (s, True)


def _scan_chunk(pattern):
    star = False
    while pattern[:1] == b"*":
        pattern, star = pattern[1:], True
    in_range, i = False, 0
    while i < len(pattern):
        c = pattern[i:i + 1]
        if c == b"\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == b"[":
            in_range = True
        elif c == b"]":
            in_range = False
        elif c == b"*" and not in_range:
            return star, pattern[:i], pattern[i:]
        i += 1
    return star, pattern, b""


def filepath_match(pattern, name):
    """path/filepath.Match on Unix: ``[^x]`` negates a class, ``[!x]`` does not, ``\\`` escapes;
    GoError for a malformed pattern (the kubelet then counts the key as not matching)."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return b"/" not in name
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if star:
            found = False
            i = 0
            while i < len(name) and name[i:i + 1] != b"/":
                rest, ok = _match_chunk(chunk, name[i + 1:])
                if ok and not (not pattern and rest):
                    name, found = rest, True
                    break
                i += 1
            if found:
                continue
        return False
    return not name


def b64decode(text, padded):
    """encoding/base64's StdEncoding (``padded``) or RawStdEncoding DecodeString: CR and LF are
    skipped, padding must be exact (or absent), non-zero trailing bits are accepted."""
    data = text.replace(b"\r", b"").replace(b"\n", b"")
    body = data
    if padded:
        if len(data) % 4:
            raise GoError("illegal base64 data")
        body = data[:-2] if data.endswith(b"==") else data[:-1] if data.endswith(b"=") else data
    elif len(data) % 4 == 1:
        raise GoError("illegal base64 data")
    if b"=" in body or not all(b in _B64 for b in body) or len(body) % 4 == 1:
        raise GoError("illegal base64 data")
    full = len(body) - len(body) % 4
    tail = body[full:]
    decoded = binascii.a2b_base64(body[:full]) if full else b""
    if tail:
        # Pad the partial quantum with zero bits ('A') and keep only the bytes it holds.
        decoded += binascii.a2b_base64(tail + b"A" * (4 - len(tail)))[:len(tail) - 1]
    return decoded


_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def trim_space(text):
    """strings.TrimSpace of a str."""
    start, end = 0, len(text)
    while start < end and text[start] in _GO_SPACE:
        start += 1
    while end > start and text[end - 1] in _GO_SPACE:
        end -= 1
    return text[start:end]
