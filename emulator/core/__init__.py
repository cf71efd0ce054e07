"""Provider-neutral core: time, ids, state, scenarios, scheduling and webhook delivery."""
