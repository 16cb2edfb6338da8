package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.KernelTrial;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TracingMultiOpts;
import dev.gtramp.trampoline.TrampolinesConfig;

import java.util.List;
import java.util.Set;

/**
 * What the global trampoline tests share: a {@link KernelTrial} whose tracing multi links are
 * served by {@code bpf_global_caller} through the hash table of {@code kfunc_md}s (or another md
 * lookup the test names), with the given RCU flavor and md free protocol.
 */
abstract class GlobalTrial extends KernelTrial {
    GlobalTrial(Set<UnsafeVariant> unsafe, RcuFlavor rcu, KfuncMdFreeProtocol protocol) {
        this(unsafe, rcu, TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH).withFreeProtocol(protocol));
    }

    /** A trial on another md lookup: the {@code NonBlockingHashMapLong} table, or the padding index. */
    GlobalTrial(Set<UnsafeVariant> unsafe, RcuFlavor rcu, TrampolinesConfig config) {
        super(unsafe, rcu, config);
    }

    /** A trial on another image, with the given md lookup. */
    GlobalTrial(KernelImage image, Set<UnsafeVariant> unsafe, RcuFlavor rcu, TrampolinesConfig config) {
        super(image, unsafe, rcu, config);
    }

    /** A tracing multi link of {@code prog} on {@code functions}. */
    final BpfTracingMultiLink attachMulti(BpfProg prog, List<KernelFunction> functions) {
        return track(trampolines.attachMulti(prog, null,
                TracingMultiOpts.create().names(functions.stream().map(KernelFunction::name).toList())));
    }

    /** A tracing multi link of {@code prog} on {@code f} alone. */
    final BpfTracingMultiLink attachMulti(BpfProg prog) {
        return track(trampolines.attachMulti(prog, null, TracingMultiOpts.create().names(List.of(f.name()))));
    }
}
