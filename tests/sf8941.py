"""sf8941.py — a strict parser for RFC 8941 (RFC 9651) Structured Field
Dictionaries, written from the RFC's parsing algorithms (§4.2), for the
tests: any deviation raises SFError instead of being tolerated.

Values come back as: int, float (Decimal), str (String), Token, bytes (Byte
Sequence), bool, or InnerList; each dictionary member is (value, params)."""
import base64
import re


class SFError(ValueError):
    pass


class Token(str):
    """An sf-token, distinct from an sf-string."""


class InnerList(list):
    pass


_KEY_FIRST = re.compile(r"[a-z*]")
_KEY_CHAR = re.compile(r"[a-z0-9_\-.*]")
_TCHAR = "!#$%&'*+-.^_`|~:/"


class _Parser:
    def __init__(self, text):
        if isinstance(text, bytes):
            try:
                text = text.decode("ascii")
            except UnicodeDecodeError:
                raise SFError("field value is not ASCII")
        self.s = text
        self.i = 0

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self):
        c = self.peek()
        self.i += 1
        return c

    def sp(self):
        while self.peek() == " ":
            self.i += 1

    def ows(self):
        while self.peek() in (" ", "\t") and self.peek():
            self.i += 1

    # §4.2.2
    def dictionary(self):
        out = {}
        while self.i < len(self.s):
            key = self.key()
            if self.peek() == "=":
                self.i += 1
                member = self.item_or_inner_list()
            else:
                member = (True, self.parameters())
            out.pop(key, None)          # later duplicates overwrite
            out[key] = member
            self.ows()
            if self.i >= len(self.s):
                return out
            if self.take() != ",":
                raise SFError("expected ',' at %d" % (self.i - 1))
            self.ows()
            if self.i >= len(self.s):
                raise SFError("trailing comma")
        return out

    def item_or_inner_list(self):
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self):
        self.take()
        items = InnerList()
        while self.i < len(self.s):
            self.sp()
            if self.peek() == ")":
                self.i += 1
                return items, self.parameters()
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise SFError("bad inner list at %d" % self.i)
        raise SFError("unterminated inner list")

    def item(self):
        return self.bare_item(), self.parameters()

    def parameters(self):
        params = {}
        while self.peek() == ";":
            self.i += 1
            self.sp()
            key = self.key()
            value = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare_item()
            params.pop(key, None)
            params[key] = value
        return params

    def key(self):
        c = self.peek()
        if not c or not _KEY_FIRST.match(c):
            raise SFError("bad key start at %d: %r" % (self.i, c))
        start = self.i
        self.i += 1
        while self.peek() and _KEY_CHAR.match(self.peek()):
            self.i += 1
        return self.s[start:self.i]

    def bare_item(self):
        c = self.peek()
        if c == "-" or c.isdigit():
            return self.number()
        if c == '"':
            return self.string()
        if c == ":":
            return self.byte_sequence()
        if c == "?":
            return self.boolean()
        if c and (c.isalpha() or c == "*") and c.isascii():
            return self.token()
        raise SFError("bad item start at %d: %r" % (self.i, c))

    def number(self):
        start = self.i
        if self.peek() == "-":
            self.i += 1
        if not self.peek().isdigit():
            raise SFError("digit expected at %d" % self.i)
        is_dec = False
        while self.peek() and (self.peek().isdigit() or self.peek() == "."):
            if self.peek() == ".":
                if is_dec:
                    raise SFError("two dots")
                is_dec = True
            self.i += 1
        text = self.s[start:self.i]
        digits = text.lstrip("-")
        if not is_dec:
            if len(digits) > 15:
                raise SFError("integer too long")
            return int(text)
        whole, frac = digits.split(".")
        if len(whole) > 12 or not frac or len(frac) > 3:
            raise SFError("bad decimal")
        return float(text)

    def string(self):
        self.take()
        out = []
        while self.i < len(self.s):
            c = self.take()
            if c == "\\":
                n = self.take()
                if n not in ('"', "\\"):
                    raise SFError("bad escape at %d" % self.i)
                out.append(n)
            elif c == '"':
                return "".join(out)
            elif ord(c) < 0x20 or ord(c) > 0x7e:
                raise SFError("non-printable in string at %d" % self.i)
            else:
                out.append(c)
        raise SFError("unterminated string")

    def token(self):
        start = self.i
        self.i += 1
        while self.peek() and (self.peek().isalnum() and self.peek().isascii()
                               or self.peek() in _TCHAR):
            self.i += 1
        return Token(self.s[start:self.i])

    def byte_sequence(self):
        self.take()
        end = self.s.find(":", self.i)
        if end < 0:
            raise SFError("unterminated byte sequence")
        data = self.s[self.i:end]
        if not re.fullmatch(r"[A-Za-z0-9+/=]*", data):
            raise SFError("bad base64")
        self.i = end + 1
        return base64.b64decode(data)

    def boolean(self):
        self.take()
        c = self.take()
        if c not in ("0", "1"):
            raise SFError("bad boolean")
        return c == "1"


def parse_dictionary(text):
    """RFC 8941 §4.2 with field_type dictionary: leading/trailing SP
    discarded, everything else must be consumed exactly."""
    p = _Parser(text)
    p.s = p.s.strip(" ")
    if not p.s:
        return {}
    return p.dictionary()


def plain(d):
    """Dictionary members without parameters: {key: value}."""
    out = {}
    for k, (v, params) in d.items():
        if params:
            raise SFError("unexpected parameters on " + k)
        out[k] = [x for x, _ in v] if isinstance(v, InnerList) else v
    return out
