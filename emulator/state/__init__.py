"""The shared state engine: N processes and replicas over one Redis (`--state redis://...`).

The memory engine is the core as it is; this package makes a cluster of them one emulator by
ordering every state-changing request in a Redis stream that each process applies alike.
"""
