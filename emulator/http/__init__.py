"""The app's HTTP toolkit, shared by the providers, the control API and the inbox, with no
provider knowledge: the bounded server protocol, the exact-path router, JSON answers, bounded
body reading, header lookups, multipart uploads, format validators and rate limiting."""
