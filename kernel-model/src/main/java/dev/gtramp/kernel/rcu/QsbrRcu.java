package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;

/**
 * Quiescent-state-based RCU (liburcu's {@code urcu-qsbr}; the kernel's RCU without preemption):
 * read-side lock and unlock cost nothing. Each online reader publishes the last grace-period number
 * it saw when it reported a quiescent state; 0 means offline (idle, or unbound), which grace periods
 * never wait for.
 *
 * <ul>
 *   <li>A reader is online only while it may hold references: during a kernel call of its CPU, or
 *       inside an explicit read-side section. Between calls a CPU is in an extended quiescent state,
 *       as a CPU in user mode or idle is for the kernel's RCU.</li>
 *   <li>{@link Reader#quiescentState()}: {@code g = gp (acquire); if (ctr != g) ctr = g (release)}.
 *       No fence is needed: the acquire load of the new {@code gp} orders the reader's later loads
 *       after the writer's unpublish, and the release store orders its earlier loads before the
 *       report.</li>
 *   <li>{@link Reader#online()}: {@code ctr = gp}, then a full fence, because going online is a
 *       store followed by loads of protected data (store buffering against the writer's
 *       unpublish-then-scan).</li>
 *   <li>A grace period: a full fence, {@code gp++}, a full fence, then wait until every reader's
 *       {@code ctr} is 0 or at least the new {@code gp}. The counter is 64 bits and only grows, so one
 *       scan is enough (liburcu's 32-bit build needs the two-phase flip instead).</li>
 * </ul>
 *
 * Used for {@link RcuFlavor#QSBR} and, with quiescent states reported where a CPU runs no
 * trampoline, for {@link RcuFlavor#TASKS}.
 */
public final class QsbrRcu extends AbstractRcu {
    private static final VarHandle GP;
    private static final VarHandle CTR;

    static {
        try {
            GP = MethodHandles.lookup().findVarHandle(QsbrRcu.class, "gp", long.class);
            CTR = MethodHandles.lookup().findVarHandle(QsbrCtr.class, "ctr", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long p00, p01, p02, p03, p04, p05, p06, p07;
    /** The grace-period number; starts at 1 so that 0 can mean "offline" in a reader's word. */
    @SuppressWarnings("unused")
    private volatile long gp = 1;
    long p10, p11, p12, p13, p14, p15, p16, p17;

    /** Whether readers skip the store-load fence ({@link UnsafeVariant#QSBR_ONLINE_NO_FENCE}). */
    final boolean readerNoFence;
    /** Whether offline reports a quiescent state instead of clearing the counter ({@link UnsafeVariant#QSBR_OFFLINE_REPORTS_QS}). */
    final boolean offlineReportsQs;

    /** A domain as {@code spec} says; {@link RcuDomainSpec#create()} picks the class by flavor. */
    public QsbrRcu(RcuDomainSpec spec) {
        super(spec);
        Set<UnsafeVariant> unsafe = spec.unsafe();
        this.readerNoFence = unsafe.contains(UnsafeVariant.QSBR_ONLINE_NO_FENCE);
        this.offlineReportsQs = unsafe.contains(UnsafeVariant.QSBR_OFFLINE_REPORTS_QS);
    }

    @Override
    long beginGracePeriod() {
        VarHandle.fullFence();
        long next = (long) GP.getAndAdd(this, 1L) + 1;
        VarHandle.fullFence();
        return next;
    }

    @Override
    long currentGracePeriodTarget() {
        return (long) GP.getVolatile(this);
    }

    @Override
    AbstractReader newReader(RcuContext context) {
        return new Reader(this, context);
    }

    /** Padding before the reader's word, so two readers' words never share a cache line. */
    abstract static class QsbrPad0 extends AbstractReader {
        long p00, p01, p02, p03, p04, p05, p06, p07;

        QsbrPad0(AbstractRcu domain, RcuContext context) {
            super(domain, context);
        }
    }

    /** The word grace periods read: 0 offline, else the last grace-period number reported. */
    abstract static class QsbrCtr extends QsbrPad0 {
        @SuppressWarnings("unused")
        volatile long ctr;

        QsbrCtr(AbstractRcu domain, RcuContext context) {
            super(domain, context);
        }
    }

    abstract static class QsbrPad1 extends QsbrCtr {
        long p10, p11, p12, p13, p14, p15, p16, p17;

        QsbrPad1(AbstractRcu domain, RcuContext context) {
            super(domain, context);
        }
    }

    /**
     * A QSBR reader. It is online while something holds it online: a kernel call in progress on its
     * CPU ({@link #online()} at the outermost entry, {@link #offline()} at the outermost exit, like
     * the kernel's {@code rcu_user_exit}/{@code rcu_user_enter}), or an explicit {@link #lock()}
     * outside any call. Inside a call, lock and unlock only count. Offline it is in an extended
     * quiescent state that grace periods never wait for, so a CPU between calls, idle or unbound
     * never stalls one.
     */
    static final class Reader extends QsbrPad1 {
        private final QsbrRcu rcu;
        /** Owner-only: how many reasons keep the reader online (calls, explicit read sections). */
        private int holds;
        /** Owner-only: nesting of the explicit section opened by a {@link #lock()} outside any call. */
        private int locks;

        Reader(QsbrRcu rcu, RcuContext context) {
            super(rcu, context);
            this.rcu = rcu;
        }

        /**
         * Inside a kernel call (the reader is already online) it only reads two fields; outside one
         * it opens an explicit section that brings the reader online until the matching unlock.
         */
        @Override
        public void lock() {
            if (locks > 0 || holds == 0) {
                if (locks++ == 0) {
                    online();
                }
            }
        }

        /**
         * Closes an explicit section opened outside a kernel call; inside a call it does nothing, so
         * an unbalanced unlock there goes unnoticed, as it would in a non-preemptible kernel.
         */
        @Override
        public void unlock() {
            if (locks > 0) {
                if (--locks == 0) {
                    offline();
                }
            } else if (holds == 0) {
                throw new KernelException(Errno.EINVAL, rcu.name() + ": rcu_read_unlock without rcu_read_lock on "
                        + context.describe());
            }
        }

        @Override
        public void quiescentState() {
            if (holds > 0) {
                long g = (long) GP.getAcquire(rcu);
                if ((long) CTR.getOpaque(this) != g) {
                    CTR.setRelease(this, g);
                }
            }
        }

        @Override
        public void online() {
            if (holds++ == 0) {
                CTR.setOpaque(this, (long) GP.getAcquire(rcu));
                if (!rcu.readerNoFence) {
                    VarHandle.fullFence();
                }
            }
        }

        @Override
        public void onlineNoFence() {
            if (holds++ == 0) {
                CTR.setOpaque(this, (long) GP.getAcquire(rcu));
            }
        }

        @Override
        public void offline() {
            if (holds == 0) {
                throw new KernelException(Errno.EINVAL, rcu.name() + ": reader of " + context.describe()
                        + " taken offline more often than online");
            }
            if (--holds == 0) {
                // Deliberately broken with offlineReportsQs: a quiescent state, not an extended one.
                CTR.setRelease(this, rcu.offlineReportsQs ? (long) GP.getAcquire(rcu) : 0L);
            }
        }

        @Override
        public boolean isOnline() {
            return holds > 0;
        }

        /**
         * Inside a kernel call or an explicit {@link #lock()}; a reader kept online by
         * {@link #online()} alone (a registered thread, as in liburcu-qsbr) is not.
         */
        @Override
        public boolean inReadSection() {
            return locks > 0 || context.inKernel();
        }

        @Override
        int suspend() {
            int h = holds;
            if (h > 0) {
                holds = 0;
                CTR.setRelease(this, 0L);
            }
            return h;
        }

        @Override
        void resume(int state) {
            if (state > 0) {
                holds = state;
                CTR.setOpaque(this, (long) GP.getAcquire(rcu));
                VarHandle.fullFence();
            }
        }

        /** Acquire pairs with the reader's release, so its reads before the report happen-before the caller's free. */
        @Override
        boolean quiescentFor(long target) {
            long w = (long) CTR.getAcquire(this);
            return w == 0 || w >= target;
        }

        @Override
        public String toString() {
            return "qsbr reader " + context.describe();
        }
    }
}
