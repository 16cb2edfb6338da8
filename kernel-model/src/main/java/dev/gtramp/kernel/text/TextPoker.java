package dev.gtramp.kernel.text;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.EntrySite;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.Int3Handler;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.UnsafeVariant;

import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * x86 live patching of entry sites in batches: {@code smp_text_poke_batch_add} /
 * {@code smp_text_poke_batch_finish} (before 6.16 {@code text_poke_queue} / {@code text_poke_finish}
 * and {@code text_poke_bp_batch}) in {@code arch/x86/kernel/alternative.c}, with its trap handler
 * {@code smp_text_poke_int3_handler}.
 *
 * <p>A batch of at most {@link #TEXT_POKE_ARRAY_MAX} sites, in strictly ascending address order
 * (the handler binary-searches it), is written in three phases, each ending in a
 * {@linkplain Kernel#syncCores() core sync} on every CPU:
 * <ol>
 *   <li>an int3 on the first byte of every site; sync. From here every CPU executing a site traps,
 *       and the handler emulates the <em>new</em> instruction;</li>
 *   <li>the new operand (tail bytes) of every site; sync;</li>
 *   <li>the new first byte of every site; sync.</li>
 * </ol>
 * Then the patcher drops its reference on the vector and waits for handlers still reading it.
 * Invariant: a CPU executing a site in the batch executes its old instruction or its new one
 * (directly or emulated), never a mix, because no CPU can be fetching the site's old first byte
 * once the first sync has returned. ftrace sites are 5-byte instructions, so every batch costs
 * exactly three syncs and three pokes per site.
 *
 * <p>It also writes the instruction at the head of a function's padding ({@link #pokePadding},
 * {@code kfunc_md_arch_poke}): a {@code text_poke} and a {@code text_poke_sync}, no int3.
 *
 * <p>One per kernel ({@link #of}); its counters are every text poke of the kernel, which ftrace
 * reports among its costs. All writers hold {@code text_mutex}; the int3 path is lock-free and
 * allocation-free.
 */
public final class TextPoker implements Int3Handler {
    /** {@code TEXT_POKE_ARRAY_MAX}: {@code PAGE_SIZE / sizeof(struct smp_text_poke_loc)} = 4096 / 16. */
    public static final int TEXT_POKE_ARRAY_MAX = 256;
    /** Padding between per-CPU reference counts, in ints: one 64-byte line each. */
    private static final int REF_STRIDE = 16;

    private final Kernel kernel;
    private final boolean withoutInt3;
    /** {@code text_poke}s: one write of one instruction's bytes (an int3, a tail, a first byte, a padding word). */
    private final AtomicLong textPokes = new AtomicLong();
    /** {@code smp_text_poke_batch_finish} runs with at least one site. */
    private final AtomicLong pokeBatches = new AtomicLong();
    /** {@code text_poke_sync}s. */
    private final AtomicLong coreSyncs = new AtomicLong();
    /** Entry sites a batch rewrote. */
    private final AtomicLong sitesPatched = new AtomicLong();
    /** {@code text_mutex}. */
    private final ReentrantLock textMutex = new ReentrantLock();

    // The vector ({@code text_poke_array}). Written by the patcher under text_mutex while no
    // handler can use it (refs are 0), published to handlers by the release that sets refs to 1.
    private final EntrySite[] sites = new EntrySite[TEXT_POKE_ARRAY_MAX];
    private final long[] ips = new long[TEXT_POKE_ARRAY_MAX];
    private final int[] newOpcodes = new int[TEXT_POKE_ARRAY_MAX];
    private final CallTarget[] newOperands = new CallTarget[TEXT_POKE_ARRAY_MAX];
    private int nrEntries;
    /** {@code text_poke_array_refs}: per CPU, 1 while a batch is live plus one per running handler. */
    private final AtomicIntegerArray refs;

    private TextPoker(Kernel kernel) {
        this.kernel = kernel;
        this.withoutInt3 = kernel.config().unsafeVariants().contains(UnsafeVariant.TEXT_POKE_WITHOUT_INT3);
        this.refs = new AtomicIntegerArray(kernel.cpuCount() * REF_STRIDE);
        kernel.installInt3Handler(this);
    }

    /** The text patcher of {@code kernel}, created (and its int3 handler installed) on first use. */
    public static TextPoker of(Kernel kernel) {
        return kernel.subsystem(TextPoker.class, TextPoker::new);
    }

    /** {@code text_mutex}, which every writer of kernel text holds. */
    public ReentrantLock textMutex() {
        return textMutex;
    }

    /**
     * {@code smp_text_poke_batch_add}: queues the new instruction of {@code site} ({@code target}
     * {@code null} for the NOP). Flushes the queue first if it is full or {@code site} is below the
     * last queued address, as the kernel does. Caller holds {@link #textMutex()}.
     */
    public void queue(EntrySite site, CallTarget target) {
        assert textMutex.isHeldByCurrentThread();
        if (nrEntries == TEXT_POKE_ARRAY_MAX || (nrEntries > 0 && ips[nrEntries - 1] > site.ip())) {
            finish();
        }
        int i = nrEntries++;
        sites[i] = site;
        ips[i] = site.ip();
        newOpcodes[i] = target == null ? EntrySite.NOP : EntrySite.CALL;
        newOperands[i] = target == null ? EntrySite.NOP_TAIL : target;
    }

    /**
     * {@code smp_text_poke_batch_finish}: writes the queued sites in three synchronised phases and
     * empties the queue. No-op when the queue is empty. Caller holds {@link #textMutex()}.
     */
    public void finish() {
        assert textMutex.isHeldByCurrentThread();
        int nr = nrEntries;
        if (nr == 0) {
            return;
        }
        if (withoutInt3) {
            finishWithoutInt3(nr);
            return;
        }
        int cpus = kernel.cpuCount();
        for (int c = 0; c < cpus; c++) {
            // Release: the vector written above is visible to a handler that takes a reference.
            refs.set(c * REF_STRIDE, 1);
        }
        for (int i = 0; i < nr; i++) {
            sites[i].pokeOpcode(EntrySite.INT3);
        }
        sync(nr);
        for (int i = 0; i < nr; i++) {
            sites[i].pokeOperand(newOperands[i]);
        }
        sync(nr);
        for (int i = 0; i < nr; i++) {
            sites[i].pokeOpcode(newOpcodes[i]);
        }
        sync(nr);
        for (int c = 0; c < cpus; c++) {
            int idx = c * REF_STRIDE;
            if (refs.decrementAndGet(idx) != 0) {
                while (refs.get(idx) != 0) {
                    Thread.onSpinWait();
                }
            }
        }
        endBatch(nr);
    }

    /** {@link UnsafeVariant#TEXT_POKE_WITHOUT_INT3}: first byte, sync, tail, sync. */
    private void finishWithoutInt3(int nr) {
        for (int i = 0; i < nr; i++) {
            sites[i].pokeOpcode(newOpcodes[i]);
        }
        sync(nr);
        for (int i = 0; i < nr; i++) {
            sites[i].pokeOperand(newOperands[i]);
        }
        sync(nr);
        endBatch(nr);
    }

    private void sync(int pokes) {
        textPokes.addAndGet(pokes);
        kernel.syncCores();
        coreSyncs.incrementAndGet();
    }

    private void endBatch(int nr) {
        pokeBatches.incrementAndGet();
        sitesPatched.addAndGet(nr);
        for (int i = 0; i < nr; i++) {
            sites[i] = null;
            newOperands[i] = null;
        }
        nrEntries = 0;
    }

    /**
     * {@code smp_text_poke_sync_each_cpu} on behalf of a caller that patched something other than
     * an entry site ({@code ftrace_update_ftrace_func} patches the {@code ftrace_call} site with a
     * single-entry batch: three syncs).
     */
    public void singleBatchSyncs() {
        for (int i = 0; i < 3; i++) {
            sync(1);
        }
        pokeBatches.incrementAndGet();
    }

    /**
     * {@code kfunc_md_arch_poke}: writes {@code insn} (a {@link PaddingInsn} word, such as
     * {@code mov $index, %eax}) at the head of the 16 bytes of padding before {@code f}, with one
     * {@code text_poke} and one {@code text_poke_sync} under {@code text_mutex}. Counts one
     * {@link #textPokes} and one {@link #coreSyncs}.
     *
     * @throws KernelException EINVAL naming the function if it belongs to another kernel or has no
     *                         padding, or if {@code insn} is not an instruction for the padding;
     *                         nothing is written then
     */
    public void pokePadding(KernelFunction f, long insn) {
        pokePaddingBatch(List.of(f), new long[] {insn});
    }

    /**
     * {@link #pokePadding} for many functions with a single sync: {@code insns[i]} goes into the
     * padding of {@code fs.get(i)}, every poke first and then one {@code text_poke_sync}. Counts
     * {@code fs.size()} {@link #textPokes} and one {@link #coreSyncs} (none for an empty list).
     * No int3 is needed: no CPU executes the padding, readers load it as data, and the 5-byte word
     * is written at once. Nothing goes through {@code text_poke_bp_batch}, so no batch is counted.
     * Every function and word is checked before anything is written.
     *
     * @throws KernelException EINVAL if the lengths differ, or as {@link #pokePadding} for any
     *                         element; nothing is written then
     */
    public void pokePaddingBatch(List<KernelFunction> fs, long[] insns) {
        if (fs.size() != insns.length) {
            throw new KernelException(Errno.EINVAL, fs.size() + " functions but " + insns.length + " instructions");
        }
        EntrySite[] padded = new EntrySite[fs.size()];
        for (int i = 0; i < padded.length; i++) {
            KernelFunction f = fs.get(i);
            if (f.kernel() != kernel) {
                throw new KernelException(Errno.EINVAL, f.name() + " is a function of another kernel");
            }
            padded[i] = f.site();
            padded[i].checkPadding(insns[i]);
        }
        if (padded.length == 0) {
            return;
        }
        textMutex.lock();
        try {
            for (int i = 0; i < padded.length; i++) {
                padded[i].pokePadding(insns[i]);
            }
            sync(padded.length);
        } finally {
            textMutex.unlock();
        }
    }

    /** {@code text_poke}s so far: one write of one instruction's bytes. */
    public long textPokes() {
        return textPokes.get();
    }

    /** Batches written so far ({@code smp_text_poke_batch_finish} with at least one site). */
    public long pokeBatches() {
        return pokeBatches.get();
    }

    /** {@code text_poke_sync}s so far (each an {@code on_each_cpu(do_sync_core)}). */
    public long coreSyncs() {
        return coreSyncs.get();
    }

    /** Entry sites rewritten by batches so far. */
    public long sitesPatched() {
        return sitesPatched.get();
    }

    /**
     * {@code smp_text_poke_int3_handler}: a CPU hit an int3 at {@code frame}'s site. Takes a
     * reference on the vector (so the patcher cannot reuse it under us), finds the site by binary
     * search, reads its new instruction, drops the reference and returns that instruction, which
     * the CPU executes.
     */
    @Override
    public CallTarget resolve(Frame frame) {
        int idx = frame.cpu().id() * REF_STRIDE;
        // try_get_text_poke_array: raw_atomic_inc_not_zero on this CPU's count.
        int r;
        do {
            r = refs.get(idx);
            if (r == 0) {
                throw frame.cpu().kernel().oops(frame, "int3 with no text_poke batch in progress");
            }
        } while (!refs.compareAndSet(idx, r, r + 1));
        int op;
        CallTarget operand;
        try {
            long ip = frame.ip();
            int lo = 0;
            int hi = nrEntries - 1;
            int found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int cmp = Long.compare(ips[mid], ip);
                if (cmp == 0) {
                    found = mid;
                    break;
                }
                if (cmp < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (found < 0) {
                throw frame.cpu().kernel().oops(frame, "int3 at a site that is not in the text_poke batch");
            }
            op = newOpcodes[found];
            operand = newOperands[found];
        } finally {
            refs.decrementAndGet(idx);
        }
        // What int3_emulate_call / int3_emulate_jmp past the NOP will execute.
        return op == EntrySite.CALL ? operand : null;
    }

    @Override
    public String toString() {
        return "smp_text_poke_int3_handler";
    }
}
