"""The site's own middleware: who the client is behind the proxy, how large a body may
be, and which answers no cache may keep (docs/security.md)."""
