package dev.gtramp.study.designs;

import dev.gtramp.trampoline.TrampolinesConfig;

/** {@code tracing-multi}: per-function trampolines on the shared direct_ops, one tracing_multi link published in one batch (upstream) */
public final class TracingMultiDesign extends MultiLinkDesign {
    @Override
    public String name() {
        return "tracing-multi";
    }

    @Override
    public String summary() {
        return "per-function trampolines on the shared direct_ops, one tracing_multi link published in one batch (upstream)";
    }

    @Override
    public TrampolinesConfig config() {
        return TrampolinesConfig.defaults();
    }
}
