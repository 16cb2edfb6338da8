package dev.gtramp.study.designs;

import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;

/** {@code global-hash}: one bpf_global_caller, the kfunc_md found in an RCU hash table keyed by ip (Dong v2) */
public final class GlobalHashDesign extends MultiLinkDesign {
    @Override
    public String name() {
        return "global-hash";
    }

    @Override
    public String summary() {
        return "one bpf_global_caller, the kfunc_md found in an RCU hash table keyed by ip (Dong v2)";
    }

    @Override
    public TrampolinesConfig config() {
        return TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH);
    }
}
