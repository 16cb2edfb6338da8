package dev.gtramp.study.designs;

import dev.gtramp.trampoline.FtraceStrategy;
import dev.gtramp.trampoline.TrampolinesConfig;

/** {@code classic}: per-function trampolines, one ftrace_ops each (register_ftrace_direct), one regular link per function */
public final class ClassicDesign extends RegularLinksDesign {
    @Override
    public String name() {
        return "classic";
    }

    @Override
    public String summary() {
        return "per-function trampolines, one ftrace_ops each (register_ftrace_direct), one regular link per function";
    }

    @Override
    public TrampolinesConfig config() {
        return TrampolinesConfig.defaults().withFtraceStrategy(FtraceStrategy.CLASSIC);
    }
}
