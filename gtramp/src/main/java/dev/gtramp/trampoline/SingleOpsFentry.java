package dev.gtramp.trampoline;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.UnsafeVariant;

import java.util.function.Consumer;

/**
 * {@code register_fentry}, {@code modify_fentry} and {@code unregister_fentry} through the shared
 * {@code direct_ops} ({@link FtraceStrategy#SINGLE_OPS}): each is an
 * {@code update_ftrace_direct_add/mod/del} of a one-entry hash.
 *
 * <p>A trampoline with {@link BpfTrampImage#F_MIX} takes its function over from
 * {@code bpf_global_caller} or hands it back: the function's entry is already in {@code direct_ops},
 * so both are one {@code update_ftrace_direct_mod}, which moves every call from one target to the
 * other with no call in between running neither.
 */
final class SingleOpsFentry implements TrampolineOps {
    private final Trampolines t;
    private final Ftrace ftrace;
    private final FtraceOps directOps;
    private final boolean mixDelThenAdd;

    SingleOpsFentry(Trampolines t, Ftrace ftrace, FtraceOps directOps) {
        this.t = t;
        this.ftrace = ftrace;
        this.directOps = directOps;
        this.mixDelThenAdd = t.kernel().config().unsafeVariants().contains(UnsafeVariant.GTRAMP_MIX_DEL_THEN_ADD);
    }

    @Override
    public void registerFentry(BpfTrampoline tr, BpfTrampImage im) {
        if ((tr.flags & BpfTrampImage.F_MIX) != 0) {
            move(tr.ip, t.globalCaller(), im);
            return;
        }
        withOneEntry(tr.ip, im, h -> ftrace.updateFtraceDirectAdd(directOps, h));
    }

    @Override
    public void modifyFentry(BpfTrampoline tr, BpfTrampImage old, BpfTrampImage im, boolean lockDirectMutex) {
        withOneEntry(tr.ip, im, h -> ftrace.updateFtraceDirectMod(directOps, h, lockDirectMutex));
    }

    @Override
    public void unregisterFentry(BpfTrampoline tr, BpfTrampImage old) {
        if ((tr.flags & BpfTrampImage.F_MIX) != 0) {
            move(tr.ip, old, t.globalCaller());
            return;
        }
        withOneEntry(tr.ip, old, h -> ftrace.updateFtraceDirectDel(directOps, h));
    }

    /** Moves the function's entry in {@code direct_ops} from {@code from} to {@code to}. */
    private void move(long ip, CallTarget from, CallTarget to) {
        if (mixDelThenAdd) {
            // Broken on purpose: between the two updates the site is a NOP and no program runs.
            withOneEntry(ip, from, h -> ftrace.updateFtraceDirectDel(directOps, h));
            withOneEntry(ip, to, h -> ftrace.updateFtraceDirectAdd(directOps, h));
            return;
        }
        withOneEntry(ip, to, h -> ftrace.updateFtraceDirectMod(directOps, h, true));
    }

    private void withOneEntry(long ip, CallTarget target, Consumer<FtraceHash> update) {
        FtraceHash h = ftrace.allocHash(0);
        h.add(ip, target);
        try {
            update.accept(h);
        } finally {
            ftrace.freeHash(h);
        }
    }

    @Override
    public boolean putsOldImage() {
        return true;
    }
}
