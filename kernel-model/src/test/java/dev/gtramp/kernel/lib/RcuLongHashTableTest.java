package dev.gtramp.kernel.lib;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.fault.FaultSpec;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.lib.RcuLongHashTable.BucketArray;
import dev.gtramp.kernel.lib.RcuLongHashTable.Node;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.kernel.mm.MemorySnapshot;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kfunc_md table: its thresholds, its errors, and lookups that a resize never diverts or frees under. */
class RcuLongHashTableTest {
    private static final KernelImage IMAGE = KernelImage.synthetic(16, 1);
    private static final String ARRAY = "kfunc_md_array";
    /** Where the keys start: a kernel text address, as a function's ip. */
    private static final long TEXT = 0xffffffff81000000L;

    private Kernel kernel;

    private Kernel boot(KernelConfig config) {
        kernel = Kernel.boot(IMAGE, config);
        return kernel;
    }

    @AfterEach
    void shutdown() {
        if (kernel != null) {
            kernel.close();
        }
    }

    private RcuLongHashTable<String> table(KernelConfig config) {
        return new RcuLongHashTable<>(boot(config), "kfunc_md");
    }

    private static long ip(int i) {
        return TEXT + 16L * i;
    }

    private long liveArrays() {
        return kernel.allocator().snapshot().usage(ARRAY).liveObjects();
    }

    /** {@code n} keys that share their bucket in a table of {@code bits} bits, in ascending order. */
    private static long[] colliding(int n, int bits) {
        long[] keys = new long[n];
        int want = RcuLongHashTable.hashPtr(ip(0), bits);
        int found = 0;
        for (int i = 0; found < n; i++) {
            if (RcuLongHashTable.hashPtr(ip(i), bits) == want) {
                keys[found++] = ip(i);
            }
        }
        return keys;
    }

    /** Two keys that share a bucket of 16 and land in different buckets of 32. */
    private static long[] splitByGrow() {
        int want = RcuLongHashTable.hashPtr(ip(0), RcuLongHashTable.MIN_BITS);
        for (int i = 1; ; i++) {
            if (RcuLongHashTable.hashPtr(ip(i), RcuLongHashTable.MIN_BITS) == want
                    && RcuLongHashTable.hashPtr(ip(i), 5) != RcuLongHashTable.hashPtr(ip(0), 5)) {
                return new long[] {ip(0), ip(i)};
            }
        }
    }

    @Test
    void hashPtrIsTheTopBitsOfTheProductWithTheGoldenRatio() {
        BigInteger mod = BigInteger.ONE.shiftLeft(64);
        BigInteger golden = new BigInteger("61C8864680B583EB", 16);
        for (long key : new long[] {0, 1, ip(0), ip(12_345), -1L, Long.MIN_VALUE}) {
            BigInteger product = new BigInteger(Long.toUnsignedString(key)).multiply(golden).mod(mod);
            for (int bits : new int[] {4, 5, 12, 30}) {
                assertEquals(product.shiftRight(64 - bits).intValueExact(), RcuLongHashTable.hashPtr(key, bits),
                        () -> Long.toHexString(key) + " " + bits);
            }
        }
    }

    @Test
    void growsBeforeTheInsertThatFindsItNinetyPercentFull() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults());
        assertEquals(16, t.buckets());
        List<Integer> grewAt = new ArrayList<>();
        int buckets = t.buckets();
        for (int i = 1; i <= 100; i++) {
            t.insert(ip(i), "md" + i);
            if (t.buckets() != buckets) {
                assertEquals(2 * buckets, t.buckets(), "grows by doubling");
                buckets = t.buckets();
                grewAt.add(i);
            }
        }
        // used * 10 >= buckets * 9 before the insert: 15 of 16, 29 of 32, 58 of 64.
        assertEquals(List.of(16, 30, 59), grewAt);
        assertEquals(100, t.size());
        for (int i = 1; i <= 100; i++) {
            assertEquals("md" + i, t.lookup(ip(i)));
        }
        assertNull(t.lookup(ip(101)));
    }

    @Test
    void shrinksAfterTheRemoveThatLeavesItThirtyPercentFullButNotBelowSixteenBuckets() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults());
        for (int i = 1; i <= 59; i++) {
            t.insert(ip(i), "md" + i);
        }
        assertEquals(128, t.buckets());
        Map<Integer, Integer> shrankTo = new HashMap<>();
        int buckets = t.buckets();
        for (int i = 59; i >= 1; i--) {
            assertEquals("md" + i, t.remove(ip(i)));
            if (t.buckets() != buckets) {
                buckets = t.buckets();
                shrankTo.put(t.size(), buckets);
            }
        }
        // used * 10 <= buckets * 3 after the remove: 38 of 128, 19 of 64, 9 of 32; never below 16.
        assertEquals(Map.of(38, 64, 19, 32, 9, 16), shrankTo);
        assertEquals(0, t.size());
        assertNull(t.remove(ip(1)), "absent");
        t.close();
    }

    @Test
    void aKeyIsInsertedOnceAndAbsentKeysAreRemovedAsNull() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults());
        t.insert(ip(1), "first");
        KernelException e = assertThrows(KernelException.class, () -> t.insert(ip(1), "second"));
        assertEquals(Errno.EEXIST, e.errno());
        assertTrue(e.getMessage().contains(Long.toHexString(ip(1))), e.getMessage());
        assertEquals("first", t.lookup(ip(1)));
        assertEquals(1, t.size());
        assertNull(t.remove(ip(2)));
        assertEquals(1, t.size());
        Map<Long, String> seen = new HashMap<>();
        t.forEach(seen::put);
        assertEquals(Map.of(ip(1), "first"), seen);
    }

    @Test
    void aGrowThatCannotAllocateLeavesTheTableAsItWas() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults());
        for (int i = 1; i <= 15; i++) {
            t.insert(ip(i), "md" + i);
        }
        kernel.faults().arm("alloc:" + ARRAY, FaultSpec.nth(1));
        KernelException e = assertThrows(KernelException.class, () -> t.insert(ip(16), "md16"));
        assertEquals(Errno.ENOMEM, e.errno());
        assertTrue(e.getMessage().contains("alloc:" + ARRAY), e.getMessage());
        assertEquals(15, t.size());
        assertEquals(16, t.buckets());
        assertNull(t.lookup(ip(16)));
        for (int i = 1; i <= 15; i++) {
            assertEquals("md" + i, t.lookup(ip(i)));
        }
        assertEquals(1, liveArrays(), "the failed array left no accounting");

        t.insert(ip(16), "md16");
        assertEquals(32, t.buckets());
        assertEquals("md16", t.lookup(ip(16)));
    }

    @Test
    void aShrinkThatCannotAllocateKeepsTheBiggerTable() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults());
        for (int i = 1; i <= 16; i++) {
            t.insert(ip(i), "md" + i);
        }
        for (int i = 16; i > 10; i--) {
            t.remove(ip(i));
        }
        assertEquals(32, t.buckets());
        kernel.faults().arm("alloc:" + ARRAY, FaultSpec.nth(1));
        assertEquals("md10", t.remove(ip(10)), "the remove succeeds without the shrink");
        assertEquals(32, t.buckets());
        assertEquals(9, t.size());
        for (int i = 1; i <= 9; i++) {
            assertEquals("md" + i, t.lookup(ip(i)));
        }
        assertEquals("md9", t.remove(ip(9)));
        assertEquals(16, t.buckets(), "the next remove shrinks");
    }

    @Test
    void theOldArrayIsFreedByAnRcuCallbackAfterTheNewOneIsPublished() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults().withManualRcuCallbacks(true));
        for (int i = 1; i <= 15; i++) {
            t.insert(ip(i), "md" + i);
        }
        BucketArray<String> old = t.currentArray();
        t.insert(ip(16), "md16");
        assertNotEquals(old, t.currentArray());
        assertTrue(old.isLive(), "freed only after a grace period");
        assertEquals(2, liveArrays());
        assertEquals(1, kernel.rcu().runPendingCallbacks());
        assertTrue(old.isFreed());
        assertEquals(1, liveArrays());
        assertThrows(KasanException.class, () -> old.head(0), "a reader of the old array now is a use after free");
        assertEquals(1, kernel.allocator().violations());
    }

    @Test
    void aReaderInsideItsSectionKeepsTheOldArrayAlive() throws Exception {
        RcuLongHashTable<String> t = table(KernelConfig.defaults().withManualRcuCallbacks(true));
        for (int i = 1; i <= 15; i++) {
            t.insert(ip(i), "md" + i);
        }
        try (Cpu cpu = kernel.bindCpu(0)) {
            cpu.rcu().lock();
            BucketArray<String> old = t.currentArray();
            long syncsBefore = kernel.rcu().stats().synchronizeCalls();
            Thread writer = new Thread(() -> {
                t.insert(ip(16), "md16");
                kernel.rcu().runPendingCallbacks();
            }, "writer");
            writer.start();
            // The writer has published the new array and started the grace period that waits for us.
            while (t.currentArray() == old || kernel.rcu().stats().synchronizeCalls() == syncsBefore) {
                Thread.onSpinWait();
            }
            assertTrue(old.isLive(), "the grace period waits for this reader");
            int b = RcuLongHashTable.hashPtr(ip(3), old.bits);
            boolean found = false;
            for (Node<String> n = old.head(b); n != null; n = n.next()) {
                found |= n.key == ip(3);
            }
            assertTrue(found, "the old array still holds every entry");
            cpu.rcu().unlock();
            writer.join();
            assertTrue(old.isFreed());
        }
        assertEquals(0, kernel.allocator().violations());
    }

    @Test
    void aRemovedNodeKeepsItsNextForAReaderStandingOnIt() {
        RcuLongHashTable<String> t = table(KernelConfig.defaults());
        long[] keys = colliding(3, RcuLongHashTable.MIN_BITS);
        for (long k : keys) {
            t.insert(k, Long.toHexString(k));
        }
        BucketArray<String> a = t.currentArray();
        Node<String> standing = a.head(RcuLongHashTable.hashPtr(keys[0], a.bits));
        assertEquals(keys[2], standing.key, "newest first");
        t.remove(keys[2]);
        assertEquals(keys[1], standing.next().key, "hlist_del_rcu leaves the removed node's next");
        assertEquals(keys[0], standing.next().next().key);
        assertNull(t.lookup(keys[2]));
    }

    /**
     * Walks the chain of {@code key} in {@code a} from its head, taking one step, then letting
     * {@code resize} run, then walking on: a reader that the resize overtakes mid-chain.
     */
    private static boolean walkAcrossResize(BucketArray<String> a, long key, Runnable resize) {
        Node<String> n = a.head(RcuLongHashTable.hashPtr(key, a.bits));
        if (n.key == key) {
            throw new AssertionError("the key must not be first in its chain");
        }
        resize.run();
        for (n = n.next(); n != null; n = n.next()) {
            if (n.key == key) {
                return true;
            }
        }
        return false;
    }

    private boolean walkerFindsKeyAcrossAGrow(Set<UnsafeVariant> unsafe) {
        RcuLongHashTable<String> t = table(KernelConfig.defaults().withManualRcuCallbacks(true)
                .withUnsafeVariants(unsafe));
        long[] chain = splitByGrow();
        t.insert(chain[0], "target");
        t.insert(chain[1], "in front");
        for (int i = 1; t.size() < 15; i++) {
            if (ip(i) != chain[0] && ip(i) != chain[1]) {
                t.insert(ip(i), "filler");
            }
        }
        BucketArray<String> old = t.currentArray();
        boolean found = walkAcrossResize(old, chain[0], () -> t.insert(ip(100_000), "grows"));
        assertEquals(32, t.buckets());
        assertEquals("target", t.lookup(chain[0]), "the new array is right either way");
        return found;
    }

    @Test
    void aGrowLeavesTheOldChainsAsTheyWere() {
        assertTrue(walkerFindsKeyAcrossAGrow(Set.of()));
    }

    @Test
    void theInPlaceResizeDivertsAReaderWalkingAnOldChain() {
        assertFalse(walkerFindsKeyAcrossAGrow(Set.of(UnsafeVariant.RCU_TABLE_RESIZE_IN_PLACE)),
                "the broken variant must miss the key, or the stress test has nothing to catch");
    }

    @Test
    void clearAndCloseLeaveNothingAllocatedAndTheTableUnusable() {
        boot(KernelConfig.defaults());
        MemorySnapshot before = kernel.allocator().snapshot();
        RcuLongHashTable<String> t = new RcuLongHashTable<>(kernel, "kfunc_md");
        for (int i = 0; i < 1000; i++) {
            t.insert(ip(i), "md");
        }
        KernelException busy = assertThrows(KernelException.class, t::close);
        assertEquals(Errno.EBUSY, busy.errno());
        assertTrue(busy.getMessage().contains("1000 entries"), busy.getMessage());
        for (int i = 0; i < 1000; i++) {
            t.remove(ip(i));
        }
        assertEquals(16, t.buckets());
        t.close();
        kernel.rcu().barrier();
        assertTrue(kernel.allocator().snapshot().leaksSince(before).isEmpty(),
                () -> kernel.allocator().snapshot().toString());
        assertEquals(0, liveArrays());
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class, () -> t.insert(1, "x")).errno());
        assertThrows(KasanException.class, () -> t.lookup(1), "a lookup after destroy is a use after free");
    }

    /**
     * Two CPUs look up keys that stay in the table while a writer inserts and removes 50,000 others,
     * growing the table to 2,048 buckets and shrinking it to 128, 25 times; the old arrays are
     * freed on the RCU callback thread. Every lookup of a present key must find it, and no reader may
     * reach a freed array.
     */
    @ParameterizedTest
    @EnumSource(value = RcuFlavor.class, names = {"QSBR", "GENERAL"})
    void lookupsOfPresentKeysNeverMissWhileTheTableResizes(RcuFlavor flavor) throws Exception {
        RcuLongHashTable<Long> t = new RcuLongHashTable<>(boot(KernelConfig.defaults().withRcu(flavor)), "kfunc_md");
        int present = 64;
        for (int i = 0; i < present; i++) {
            t.insert(ip(7 * i), (long) i);
        }
        AtomicLong misses = new AtomicLong();
        AtomicLong passes = new AtomicLong();
        List<Throwable> errors = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> readers = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            int id = c;
            readers.add(new Thread(() -> {
                try (Cpu cpu = kernel.bindCpu(id)) {
                    boolean last = false;
                    while (!last) {
                        last = done.get();
                        cpu.rcu().lock();
                        try {
                            for (int i = 0; i < present; i++) {
                                Long v = t.lookup(ip(7 * i));
                                if (v == null || v != i) {
                                    misses.incrementAndGet();
                                }
                            }
                        } finally {
                            cpu.rcu().unlock();
                        }
                        passes.incrementAndGet();
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            }, "cpu" + c));
        }
        readers.forEach(Thread::start);
        int ops = 0;
        int round = 0;
        while (ops < 50_000) {
            List<Long> mine = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                long k = ip(7 * (present + round * 1000 + i) + 3);
                t.insert(k, -1L);
                mine.add(k);
            }
            assertEquals(2048, t.buckets());
            for (long k : mine) {
                assertEquals(-1L, t.remove(k));
            }
            assertEquals(128, t.buckets(), "64 entries keep 128 buckets: 640 > 3 * 128");
            ops += 2000;
            round++;
        }
        done.set(true);
        for (Thread r : readers) {
            r.join(60_000);
            assertFalse(r.isAlive(), r.getName() + " did not stop");
        }
        assertTrue(errors.isEmpty(), () -> errors.toString());
        assertEquals(0, misses.get(), "lookups of present keys that missed");
        assertTrue(passes.get() >= 2, "each reader made at least its last pass");
        kernel.rcu().barrier();
        assertEquals(1, liveArrays(), "every replaced array was freed");
        assertEquals(0, kernel.allocator().violations());
        for (int i = 0; i < present; i++) {
            assertEquals(i, t.remove(ip(7 * i)));
        }
        t.close();
    }
}
