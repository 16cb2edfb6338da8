package dev.gtramp.study.designs;

import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;

/** {@code global-padding}: one bpf_global_caller, the kfunc_md index in the function's padding (mov $index, %eax), O(1) lookup */
public final class GlobalPaddingDesign extends MultiLinkDesign {
    @Override
    public String name() {
        return "global-padding";
    }

    @Override
    public String summary() {
        return "one bpf_global_caller, the kfunc_md index in the function's padding (mov $index, %eax), O(1) lookup";
    }

    @Override
    public TrampolinesConfig config() {
        return TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING);
    }
}
