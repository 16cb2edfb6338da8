package dev.gtramp.stress.table;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.lib.RcuLongHashTable;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.stress.Residue;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static dev.gtramp.stress.TrialDomain.await;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Table growth racing lookups: a lookup racing a resize of the {@code kfunc_md} table never
 * misses a key present throughout, nor touches a freed bucket array.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the writer is done:               wait for cpu 0's lookups
 *     rcu_read_lock()                       insert 25 keys: the table grows 16 -&gt; 32 -&gt; 64
 *     md = lookup(K)                          (each grow: new array, publish, call_rcu(free old))
 *     rcu_read_unlock()                     remove the 25 keys: it shrinks 64 -&gt; 32
 *   one more lookup: must find K            after each write, run the callbacks queued:
 *                                             a grace period, then the frees
 *                                          arbiter: r2 = KASAN reports
 * </pre>
 *
 * The table starts with 15 entries in 16 buckets, one insert short of its first grow. Among them
 * are K and two keys that share K's bucket at every size up to 256 buckets, inserted before and
 * after it, so K sits in the middle of its chain whatever order a resize leaves it in: a lookup of
 * K always steps over another node first. A third neighbour is removed and inserted again eight
 * times at the peak size ({@code kfunc_md} churn: a function detached and attached again); each
 * insert puts it at the head of K's chain, so the next remove unlinks a node a lookup of K may be
 * standing on. Each trial boots a kernel of its own (two CPUs, the
 * 16-function synthetic image, manual RCU callbacks); the writer binds no CPU, and runs the
 * callbacks the resizes queued itself, as the callback thread would. Both actors' waits for each
 * other end after {@link TrialDomain#PATIENCE_NANOS} at the latest.
 *
 * <p>The hazard: a resize changes what a reader that loaded the old array walks. A resize that
 * relinks the existing nodes into the new buckets rewrites the {@code next} of a node a reader may
 * stand on, sending the reader into another chain past K; one that frees the old array without a
 * grace period frees it under the reader; a remove that clears the removed node's {@code next}
 * ({@code hlist_del} for {@code hlist_del_rcu}) ends the walk of a reader standing on it before K.
 * The table's resize copies the entries into new nodes, leaves the old chains untouched, and frees
 * the old array from an RCU callback; its remove leaves the removed node's {@code next} as it was.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every lookup found K, 1 a lookup missed K, 2 a lookup
 * reached a freed array (a KASAN report), 3 the writer did not finish in time; {@code r2}: 1 if
 * KASAN reported anything by the end of the trial.
 * <ul>
 *   <li>{@code 0, 0}: every lookup found K, and every old array was freed after its readers;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a lookup missed a key present throughout;</li>
 *   <li>{@code 2, *} and {@code *, 1}: FORBIDDEN, a use after free of a bucket array;</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once every callback had
 *       run (live objects, callbacks or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link RcuTableResizeInPlaceBroken} and {@link RcuTableDelClearsNextBroken}, which
 * must show {@code 1, 0}, and with {@link RcuTableFreeArrayAtOnceBroken}, which must show
 * {@code 2, 1} or {@code 1, 0}.
 */
@Description("kfunc_md table growth racing lookups: a key present throughout is always found")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "every lookup found the key; old arrays freed after their readers")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a lookup missed a key present throughout the resize")
@Outcome(id = "2, .*", expect = FORBIDDEN, desc = "use after free: a lookup reached a freed bucket array")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a KASAN report, or the writer did not finish")
public abstract class ResizeVsLookup {
    static final KernelImage SMALL_IMAGE = KernelImage.synthetic(16, 1);
    /** The first function address of the synthetic image: the keys are 16-byte aligned ips from here. */
    private static final long TEXT = 0xffffffff81000010L;
    /** Entries at the start: one short of the first grow ({@code 15 * 10 >= 16 * 9}). */
    private static final int INITIAL = 15;
    /** Keys the writer inserts and removes: 40 entries at the peak, 64 buckets. */
    private static final int WRITES = 25;
    /** The key looked up, and its chain neighbours: the same bucket of every size up to 2^8. */
    private static final long[] CHAIN = sameBucket(4, 8);
    private static final long K = CHAIN[1];
    /** A neighbour of K that the writer removes and inserts again, each time at the head of K's chain. */
    private static final long CHURN_KEY = CHAIN[3];
    /** How many times the writer removes and re-inserts {@link #CHURN_KEY} at the peak size. */
    private static final int CHURNS = 8;
    private static final Object MD = "kfunc_md(K)";

    private final Kernel kernel;
    private final RcuLongHashTable<Object> table;
    private final long[] writes = new long[WRITES];
    /** The baseline, at the end of the setup. */
    private final Residue residue;
    private volatile boolean looking;
    private volatile boolean done;

    ResizeVsLookup(Set<UnsafeVariant> unsafe) {
        kernel = Kernel.boot(SMALL_IMAGE, KernelConfig.defaults().withManualRcuCallbacks(true)
                .withUnsafeVariants(unsafe));
        table = new RcuLongHashTable<>(kernel, "kfunc_md");
        table.insert(CHAIN[0], "kfunc_md(before K)");
        table.insert(K, MD);
        table.insert(CHAIN[2], "kfunc_md(after K)");
        table.insert(CHURN_KEY, "kfunc_md(churned)");
        int n = 0;
        for (int i = 0; table.size() < INITIAL || n < WRITES; i++) {
            long ip = TEXT + 16L * i;
            if (ip == CHAIN[0] || ip == K || ip == CHAIN[2] || ip == CHURN_KEY) {
                continue;
            }
            if (table.size() < INITIAL) {
                table.insert(ip, "kfunc_md");
            } else {
                writes[n++] = ip;
            }
        }
        residue = Residue.of(kernel);
    }

    /** {@code n} ips that share one bucket of a table of {@code 1 << bits} buckets, and so of every smaller one. */
    private static long[] sameBucket(int n, int bits) {
        long[] keys = new long[n];
        int want = RcuLongHashTable.hashPtr(TEXT, bits);
        int found = 0;
        for (long ip = TEXT; found < n; ip += 16) {
            if (RcuLongHashTable.hashPtr(ip, bits) == want) {
                keys[found++] = ip;
            }
        }
        return keys;
    }

    /** CPU 0: looks K up, each lookup in its own read-side section, until the writer is done, then once more. */
    final void lookups(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            looking = true;
            int verdict = 0;
            while (!done && verdict == 0) {
                verdict = lookupOnce(cpu);
            }
            if (!await(() -> done) && verdict == 0) {
                verdict = 3;
            }
            if (verdict == 0) {
                verdict = lookupOnce(cpu);
            }
            r.r1 = verdict;
        }
    }

    /** One lookup of K: 0 found, 1 missed, 2 a KASAN report. */
    private int lookupOnce(Cpu cpu) {
        cpu.rcu().lock();
        try {
            return table.lookup(K) == MD ? 0 : 1;
        } catch (KasanException e) {
            return 2;
        } finally {
            cpu.rcu().unlock();
        }
    }

    /**
     * The writer: grows the table twice and shrinks it once while CPU 0 looks up. After each write
     * it runs the callbacks queued so far, so an old array is freed as soon as its grace period
     * allows, while CPU 0 may be about to use it (a write that did not resize queues none and
     * waits for nothing).
     */
    final void resizes() {
        try {
            await(() -> looking);
            for (long ip : writes) {
                table.insert(ip, "kfunc_md");
                kernel.rcu().runPendingCallbacks();
            }
            for (int i = 0; i < CHURNS; i++) {
                table.remove(CHURN_KEY);
                table.insert(CHURN_KEY, "kfunc_md(churned)");
            }
            for (long ip : writes) {
                table.remove(ip);
                kernel.rcu().runPendingCallbacks();
            }
        } finally {
            done = true;
        }
    }

    /** The arbiter: runs the callbacks left, closes the kernel, and says whether KASAN reported anything. */
    final void check(II_Result r) {
        kernel.rcu().barrier();
        kernel.close();
        r.r2 = kernel.allocator().violations() > 0 ? 1 : 0;
        if (Residue.accepted(r, "0, 0") && residue.found()) {
            r.r2 = Residue.VALUE;
        }
    }
}
