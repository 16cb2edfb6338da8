package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;

/**
 * General-purpose RCU for any thread, with nesting read-side critical sections and no cooperation
 * (liburcu's {@code urcu-mb}; ConcurrencyFreaks' readers-version RCU): the outermost
 * {@link Reader#lock()} publishes the epoch it read, {@link Reader#unlock()} clears it, and a grace
 * period advances the epoch and waits until no reader still shows an older one.
 *
 * <ul>
 *   <li>Outermost lock: {@code slot = epoch} (opaque), then a full fence. This is the
 *       store-buffering pattern against the writer's unpublish-then-scan: both sides need the
 *       store-load order, and Java has no asymmetric fence ({@code membarrier}) to move the reader's
 *       half to the writer.</li>
 *   <li>Outermost unlock: {@code slot = 0} with release, which keeps the section's loads before it.
 *       Nested lock and unlock touch only an owner-private counter.</li>
 *   <li>A grace period: full fence, {@code e = ++epoch}, full fence, then wait while a reader's slot
 *       is neither 0 nor at least {@code e}. A reader that loaded the old epoch and stored it late is
 *       waited for; one that shows {@code e} entered after the increment and sees the unpublish. The
 *       epoch is 64 bits and only grows, so no two-phase flip is needed (liburcu needs one because it
 *       packs a one-bit phase with the nesting count).</li>
 * </ul>
 */
public final class EpochRcu extends AbstractRcu {
    private static final VarHandle EPOCH;
    private static final VarHandle SLOT;

    static {
        try {
            EPOCH = MethodHandles.lookup().findVarHandle(EpochRcu.class, "epoch", long.class);
            SLOT = MethodHandles.lookup().findVarHandle(EpochSlot.class, "slot", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long p00, p01, p02, p03, p04, p05, p06, p07;
    /** The epoch; starts at 2 so that 0 means "not reading" and 1 is never a live epoch. */
    @SuppressWarnings("unused")
    private volatile long epoch = 2;
    long p10, p11, p12, p13, p14, p15, p16, p17;

    /** Whether readers skip the store-load fence ({@link UnsafeVariant#RCU_READER_NO_FENCE}). */
    final boolean readerNoFence;
    /** Whether the grace-period check accepts the epoch before the advance ({@link UnsafeVariant#RCU_EPOCH_CHECK_OFF_BY_ONE}). */
    final boolean epochCheckOffByOne;
    /** Whether offline clears the reader's slot ({@link UnsafeVariant#RCU_OFFLINE_DROPS_PREEMPTED_READER}). */
    final boolean offlineDropsReader;

    /** A domain as {@code spec} says; {@link RcuDomainSpec#create()} picks the class by flavor. */
    public EpochRcu(RcuDomainSpec spec) {
        super(spec);
        Set<UnsafeVariant> unsafe = spec.unsafe();
        this.readerNoFence = unsafe.contains(UnsafeVariant.RCU_READER_NO_FENCE);
        this.epochCheckOffByOne = unsafe.contains(UnsafeVariant.RCU_EPOCH_CHECK_OFF_BY_ONE);
        this.offlineDropsReader = unsafe.contains(UnsafeVariant.RCU_OFFLINE_DROPS_PREEMPTED_READER);
    }

    @Override
    long beginGracePeriod() {
        VarHandle.fullFence();
        long next = (long) EPOCH.getAndAdd(this, 1L) + 1;
        VarHandle.fullFence();
        return next;
    }

    @Override
    long currentGracePeriodTarget() {
        return (long) EPOCH.getVolatile(this);
    }

    @Override
    AbstractReader newReader(RcuContext context) {
        return new Reader(this, context);
    }

    abstract static class EpochPad0 extends AbstractReader {
        long p00, p01, p02, p03, p04, p05, p06, p07;

        EpochPad0(AbstractRcu domain, RcuContext context) {
            super(domain, context);
        }
    }

    /** The word grace periods read: 0 when not reading, else the epoch the outermost lock saw. */
    abstract static class EpochSlot extends EpochPad0 {
        @SuppressWarnings("unused")
        volatile long slot;

        EpochSlot(AbstractRcu domain, RcuContext context) {
            super(domain, context);
        }
    }

    abstract static class EpochPad1 extends EpochSlot {
        long p10, p11, p12, p13, p14, p15, p16, p17;

        EpochPad1(AbstractRcu domain, RcuContext context) {
            super(domain, context);
        }
    }

    /** A reader of the general flavor. */
    static final class Reader extends EpochPad1 {
        private final EpochRcu rcu;
        /** Owner-only nesting depth. */
        private int nest;

        Reader(EpochRcu rcu, RcuContext context) {
            super(rcu, context);
            this.rcu = rcu;
        }

        @Override
        public void lock() {
            if (nest++ == 0) {
                SLOT.setOpaque(this, (long) EPOCH.getAcquire(rcu));
                if (!rcu.readerNoFence) {
                    VarHandle.fullFence();
                }
            }
        }

        @Override
        public void unlock() {
            if (nest == 0) {
                throw new KernelException(Errno.EINVAL, rcu.name() + ": rcu_read_unlock without rcu_read_lock on "
                        + context.describe());
            }
            if (--nest == 0) {
                SLOT.setRelease(this, 0L);
            }
        }

        @Override
        public void quiescentState() {
        }

        @Override
        public void online() {
        }

        @Override
        public void onlineNoFence() {
        }

        /**
         * Nothing: the slot belongs to the reader, not to the CPU it ran on, so a reader preempted
         * inside its section keeps it across its CPU going offline and resumes elsewhere with it.
         */
        @Override
        public void offline() {
            if (rcu.offlineDropsReader) {
                // Deliberately broken: the section of a preempted reader is forgotten.
                SLOT.setRelease(this, 0L);
            }
        }

        @Override
        public boolean isOnline() {
            return true;
        }

        @Override
        public boolean inReadSection() {
            return nest > 0;
        }

        @Override
        boolean quiescentFor(long target) {
            long w = (long) SLOT.getAcquire(this);
            // A reader that entered at the new epoch or later began after the grace period did.
            return w == 0 || w >= (rcu.epochCheckOffByOne ? target - 1 : target);
        }

        @Override
        public String toString() {
            return "epoch reader " + context.describe();
        }
    }
}
