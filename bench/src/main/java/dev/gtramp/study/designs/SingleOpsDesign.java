package dev.gtramp.study.designs;

import dev.gtramp.trampoline.TrampolinesConfig;

/** {@code single-ops}: per-function trampolines on the one shared direct_ops (update_ftrace_direct_add/del/mod), one regular link per function */
public final class SingleOpsDesign extends RegularLinksDesign {
    @Override
    public String name() {
        return "single-ops";
    }

    @Override
    public String summary() {
        return "per-function trampolines on the one shared direct_ops (update_ftrace_direct_add/del/mod), one regular link per function";
    }

    @Override
    public TrampolinesConfig config() {
        return TrampolinesConfig.defaults();
    }
}
