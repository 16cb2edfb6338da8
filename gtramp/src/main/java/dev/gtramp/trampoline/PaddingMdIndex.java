package dev.gtramp.trampoline;

import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.mm.KernelObject;
import dev.gtramp.kernel.text.TextPoker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The md index in the function's padding (per-function storage v4 and tracing multi-link v1): each
 * md has a slot in a global md array, and {@code kfunc_md_arch_poke} writes
 * {@code mov $slot, %eax} into the 16 padding bytes before the function. The caller reads the
 * padding ({@code *(u8 *)(ip - insn_off) == 0xB8}), then the slot: no hashing, O(1) however many
 * functions are traced.
 *
 * <p><b>The array</b> starts at {@code PAGE_SIZE / sizeof(struct kfunc_md)} slots and doubles when
 * full: the new array is built with every used slot copied, published with a release store, and the
 * old one freed after an RCU grace period, so a caller that loaded the old array still finds its md
 * there. (The kernel's array holds the mds themselves and re-initialises their refs on growth; here
 * it holds references, so growth copies pointers and the mds stay put.)
 *
 * <p><b>A slot</b> is published before its padding is poked and unpublished by poking NOPs back; it
 * is reused only after the md is freed ({@code KFUNC_MD_FL_DEAD} until the release), so a caller that
 * read the old index before the NOPs finds the old md, which the free protocol keeps alive for it.
 * That is the whole guard against a stale index; the caller does not compare {@code md->func} with
 * its ip. It need not: the md's free, and so the slot's reuse, waits for every read-side section
 * that began before the NOPs, so a slot reached through an index decoded inside one still holds
 * the function's own md.
 */
final class PaddingMdIndex implements KfuncMdIndex {
    /** {@code PAGE_SIZE / sizeof(struct kfunc_md)}: the first array's slots. */
    static final int INITIAL_SLOTS = 4096 / 96;

    private static final VarHandle ARRAY;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(KfuncMd[].class);

    static {
        try {
            ARRAY = MethodHandles.lookup().findVarHandle(PaddingMdIndex.class, "array", MdArray.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Kernel kernel;
    private final TextPoker poker;
    /** {@link UnsafeVariant#PADDING_MD_ARRAY_PUBLISH_BEFORE_COPY}, for the stress suite. */
    private final boolean publishBeforeCopy;
    /** {@link UnsafeVariant#PADDING_MD_ARRAY_FREE_AT_ONCE}, for the stress suite. */
    private final boolean freeArrayAtOnce;
    /** {@link UnsafeVariant#PADDING_SLOT_FREED_AT_UNPUBLISH}, for the stress suite. */
    private final boolean slotFreedAtUnpublish;
    /** {@link UnsafeVariant#PADDING_MD_LOOKUP_FINDS_DEAD}, for the stress suite. */
    private final boolean lookupFindsDead;
    /** The current array. Written under {@code kfunc_md_mutex}; accessed through {@link #ARRAY}. */
    @SuppressWarnings("unused")
    private MdArray array;
    /** Slots free for reuse, as a stack; {@code free[0..freeCount)}. Guarded by itself: released mds return slots from any thread. */
    private final Object freeLock = new Object();
    private int[] free = new int[0];
    private int freeCount;
    /** Slots ever handed out: the next never-used slot. Under {@code kfunc_md_mutex}. */
    private int used;
    /** Published mds. Under {@code kfunc_md_mutex}. */
    private int size;
    /**
     * Mds of functions without padding ({@link #cannotIndex}): their trampolines serve them, so the
     * caller never looks for them; writers find them here. Under {@code kfunc_md_mutex}.
     */
    private final Map<KernelFunction, KfuncMd> unindexed = new HashMap<>();

    PaddingMdIndex(Kernel kernel) {
        this.kernel = kernel;
        this.poker = TextPoker.of(kernel);
        Set<UnsafeVariant> unsafe = kernel.config().unsafeVariants();
        this.publishBeforeCopy = unsafe.contains(UnsafeVariant.PADDING_MD_ARRAY_PUBLISH_BEFORE_COPY);
        this.freeArrayAtOnce = unsafe.contains(UnsafeVariant.PADDING_MD_ARRAY_FREE_AT_ONCE);
        this.slotFreedAtUnpublish = unsafe.contains(UnsafeVariant.PADDING_SLOT_FREED_AT_UNPUBLISH);
        this.lookupFindsDead = unsafe.contains(UnsafeVariant.PADDING_MD_LOOKUP_FINDS_DEAD);
        ARRAY.setRelease(this, kernel.allocator().allocNoFail(new MdArray(INITIAL_SLOTS)));
    }

    /**
     * {@code kfunc_md_get_rcu} by padding. Acquire on the padding pairs with the poke's release, and
     * acquire on the array and the slot with their publication, which both came before the poke: a
     * caller that reads an index finds an array at least that long with the md in the slot.
     *
     * <p>An interrupt can split the lookup; the model marks where ({@code Cpu.interruptWindow}):
     * after the index and the array are loaded, before either is used. The read-side section stays
     * open across the handler, so neither the array nor the slot's md can be freed, nor the slot
     * reused, in the meantime.
     */
    @Override
    public KfuncMd find(Frame frame) {
        long insn = frame.function().site().padding();
        if (!PaddingInsn.isMovEax(insn)) {
            return null;
        }
        MdArray a = (MdArray) ARRAY.getAcquire(this);
        frame.cpu().interruptWindow();
        a.access();
        return (KfuncMd) SLOT.getAcquire(a.mds, PaddingInsn.imm32(insn));
    }

    /**
     * The writers' lookup decodes the function's padding, as the caller does: an md unpublished by
     * its put (NOPs poked back) is not found, although its slot stays taken until its free, so a
     * create while it retires makes a new md in another slot instead of reviving a killed one.
     */
    @Override
    public KfuncMd lookup(KernelFunction f) {
        KfuncMd md = unindexed.get(f);
        if (md != null) {
            return md;
        }
        if (lookupFindsDead) {
            // Broken on purpose: a scan by md->func that does not skip KFUNC_MD_FL_DEAD mds.
            KfuncMd[] mds = ((MdArray) ARRAY.getAcquire(this)).mds;
            for (int i = 0; i < mds.length; i++) {
                KfuncMd m = (KfuncMd) SLOT.getAcquire(mds, i);
                if (m != null && m.function == f) {
                    return m;
                }
            }
            return null;
        }
        long insn = f.site().padding();
        if (!PaddingInsn.isMovEax(insn)) {
            return null;
        }
        return (KfuncMd) SLOT.getAcquire(((MdArray) ARRAY.getAcquire(this)).mds, PaddingInsn.imm32(insn));
    }

    @Override
    public String cannotIndex(KernelFunction f) {
        int bytes = f.site().paddingBytes();
        return bytes < PaddingInsn.PADDING_BYTES
                ? "its address has " + bytes + " bytes of padding, no room for mov $index, %eax"
                : null;
    }

    @Override
    public void insert(KfuncMd md) {
        if (cannotIndex(md.function) != null) {
            unindexed.put(md.function, md);
            size++;
            return;
        }
        int slot = takeSlot();
        MdArray a = null;
        try {
            a = (MdArray) ARRAY.getAcquire(this);
            if (slot >= a.mds.length) {
                a = grow(a);
            }
            // Release: the md is fully built before a caller can read it from the slot.
            SLOT.setRelease(a.mds, slot, md);
            poker.pokePadding(md.function, PaddingInsn.movEaxImm32(slot));
        } catch (RuntimeException e) {
            // No padding points at the slot: nothing can have found the md there.
            if (a != null && slot < a.mds.length) {
                SLOT.compareAndSet(a.mds, slot, md, null);
            }
            returnSlot(slot);
            throw e;
        }
        md.slot = slot;
        size++;
    }

    /**
     * Doubles the array: a copy of every slot, published, the old one freed after a grace period.
     * Copy and publish are one step for {@link #released} (under {@code freeLock}), so a slot it
     * clears is never copied back into the new array.
     */
    private MdArray grow(MdArray old) {
        MdArray bigger = kernel.allocator().alloc(new MdArray(old.mds.length * 2));
        synchronized (freeLock) {
            if (publishBeforeCopy) {
                // Broken on purpose: a caller can load the new array before its slot is copied.
                ARRAY.setRelease(this, bigger);
                for (int i = 0; i < old.mds.length; i++) {
                    SLOT.setRelease(bigger.mds, i, SLOT.getAcquire(old.mds, i));
                }
            } else {
                // Plain stores: the release that publishes the array orders them before any
                // caller's acquire of it.
                for (int i = 0; i < old.mds.length; i++) {
                    bigger.mds[i] = (KfuncMd) SLOT.getAcquire(old.mds, i);
                }
                ARRAY.setRelease(this, bigger);
            }
        }
        if (freeArrayAtOnce) {
            // Broken on purpose: a caller that loaded the old array may still read it.
            kernel.allocator().free(old, "kfunc_md_array_grow");
        } else {
            kernel.rcu().call(() -> kernel.allocator().free(old, "kfunc_md_array_grow"));
        }
        return bigger;
    }

    @Override
    public void remove(KfuncMd md) {
        if (unindexed.remove(md.function, md)) {
            size--;
            return;
        }
        poker.pokePadding(md.function, PaddingInsn.NOP_WORD);
        size--;
        if (slotFreedAtUnpublish) {
            // Broken on purpose: the slot goes back while callers may still hold the old index.
            released(md);
            md.slot = -1;
        }
    }

    /**
     * The release: the slot is cleared and free again ({@code KFUNC_MD_FL_DEAD} cleared). Clearing
     * drops the array's reference to the freed md; a caller still holding a stale
     * {@code mov $slot} after every grace period finds no md and resumes the function.
     */
    @Override
    public void released(KfuncMd md) {
        if (md.slot < 0) {
            return;
        }
        synchronized (freeLock) {
            MdArray a = (MdArray) ARRAY.getAcquire(this);
            SLOT.compareAndSet(a.mds, md.slot, md, null);
            pushFree(md.slot);
        }
    }

    /** Slots of the current array that hold an md: for tests. */
    int slotsHoldingMds() {
        KfuncMd[] mds = ((MdArray) ARRAY.getAcquire(this)).mds;
        int n = 0;
        for (int i = 0; i < mds.length; i++) {
            if (SLOT.getAcquire(mds, i) != null) {
                n++;
            }
        }
        return n;
    }

    private int takeSlot() {
        synchronized (freeLock) {
            if (freeCount > 0) {
                return free[--freeCount];
            }
        }
        return used++;
    }

    private void returnSlot(int slot) {
        synchronized (freeLock) {
            pushFree(slot);
        }
    }

    /** Under {@code freeLock}. */
    private void pushFree(int slot) {
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, Math.max(16, free.length * 2));
        }
        free[freeCount++] = slot;
    }

    @Override
    public int size() {
        return size;
    }

    /** {@code kfunc_mds}: the md array, an allocator object so growth can fail and its frees are checked. */
    static final class MdArray extends KernelObject {
        final KfuncMd[] mds;

        MdArray(int slots) {
            super("kfunc_md_array", 8L * slots);
            this.mds = new KfuncMd[slots];
        }

        void access() {
            guard();
        }
    }
}
