"""The kernel: the child process that runs demo code. The only place that imports jax.

It never imports textual. It is started by `jaxtui.core.client.KernelClient` as
`python -m jaxtui.kernel` and speaks `jaxtui.protocol` over its stdin/stdout.
"""
