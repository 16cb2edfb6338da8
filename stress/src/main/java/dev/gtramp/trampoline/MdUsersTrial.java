package dev.gtramp.trampoline;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.KernelTrial;

import java.util.List;
import java.util.Set;

/**
 * What the {@code kfunc_md} user-count tests share: a {@link KernelTrial} with the global trampoline,
 * whose {@link KfuncMds} the actors drive directly, as two attach and detach paths would if
 * {@code global_tr_lock} did not serialize them; only {@code kfunc_md_mutex} orders them. The tests
 * live in the trampoline package for that access alone.
 */
abstract class MdUsersTrial extends KernelTrial {
    final KfuncMds mds;

    MdUsersTrial(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.QSBR, TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH));
        mds = trampolines.global().mds();
    }

    final BpfProg multi(String name) {
        return prog(name, BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0);
    }

    /** The attach path's share: {@code kfunc_md_create} and {@code kfunc_md_bpf_link}; null if either threw. */
    final KfuncMd createAndLink(BpfProg prog) {
        try {
            KfuncMd md = mds.create(f);
            mds.link(md, prog, 0);
            return md;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The detach path's share ({@code kfunc_md_bpf_unlink}, {@code kfunc_md_put}), for the arbiter. */
    final void release(KfuncMd md, BpfProg prog) {
        mds.unlink(md, prog);
        mds.put(md);
    }

    /** The md published for {@code f}, or null. */
    final KfuncMd published() {
        return mds.get(f);
    }

    /** {@code md}'s users, under {@code kfunc_md_mutex}. */
    final int users(KfuncMd md) {
        mds.mutex().lock();
        try {
            return md.users;
        } finally {
            mds.mutex().unlock();
        }
    }

    /** Whether {@code md}'s programs are exactly the fentry programs {@code progs}, in any order. */
    final boolean hasExactly(KfuncMd md, BpfProg... progs) {
        mds.mutex().lock();
        try {
            List<KfuncMdProg> on = md.progs(BpfTrampKind.FENTRY);
            if (on.size() != progs.length || md.progCount != progs.length) {
                return false;
            }
            for (BpfProg p : progs) {
                if (md.find(BpfTrampKind.FENTRY, p) == null) {
                    return false;
                }
            }
            return true;
        } finally {
            mds.mutex().unlock();
        }
    }
}
