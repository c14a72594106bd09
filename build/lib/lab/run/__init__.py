"""The lab as it runs: `Lab` sequences the steps (state, images, plan, engine, readiness) and keeps a
lab's state, lock and certificates."""
