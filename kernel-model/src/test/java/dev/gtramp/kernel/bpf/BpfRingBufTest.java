package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.gtramp.kernel.bpf.MapAsserts.assertCreateError;
import static dev.gtramp.kernel.bpf.MapAsserts.assertMapError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BPF_MAP_TYPE_RINGBUF against {@code kernel/bpf/ringbuf.c} and libbpf's consumer. */
class BpfRingBufTest extends MapTestBase {
    private static final int EAGAIN = -Errno.EAGAIN.code();
    private static final int SIZE = 4096;

    /** Consumes everything committed and returns the samples handed over. */
    private static List<long[]> drain(BpfRingBuf ring) {
        List<long[]> out = new ArrayList<>();
        int n = ring.consume(out::add);
        assertEquals(out.size(), n);
        return out;
    }

    @Test
    void createWantsAPowerOfTwoNumberOfPages() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        assertEquals(BpfMapType.RINGBUF, ring.type());
        assertEquals("BPF_MAP_TYPE_RINGBUF", ring.type().kernelName());
        assertEquals(27, ring.type().id());
        assertEquals(SIZE, ring.maxEntries());
        assertEquals(0, ring.availableBytes());
        assertEquals(2 * SIZE, BpfRingBuf.create(kernel, "big", 2 * SIZE).maxEntries());
        for (int bad : new int[] {0, -SIZE, 2048, SIZE - 8, 3 * SIZE, SIZE + 8}) {
            assertCreateError(Errno.EINVAL, "bad", () -> BpfRingBuf.create(kernel, "bad", bad));
        }
    }

    @Test
    void outputRecordsComeOutInOrderWithTheirWords() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(0, ring.output(cpu, 1));
            assertEquals(0, ring.output(cpu, 2, 3));
            assertEquals(0, ring.output(cpu, 4, 5, 6));
            assertEquals(0, ring.output(cpu, 7, 8, 9, 10));
            assertEquals(0, ring.output(cpu));
        }
        long bytes = (8 + 8) + (8 + 16) + (8 + 24) + (8 + 32) + 8;
        assertEquals(bytes, ring.availableBytes(), "an 8-byte header per record");
        assertEquals(bytes, ring.producerPos());
        List<long[]> got = drain(ring);
        assertEquals(5, got.size());
        assertArrayEquals(new long[] {1}, got.get(0));
        assertArrayEquals(new long[] {2, 3}, got.get(1));
        assertArrayEquals(new long[] {4, 5, 6}, got.get(2));
        assertArrayEquals(new long[] {7, 8, 9, 10}, got.get(3));
        assertArrayEquals(new long[] {}, got.get(4));
        assertEquals(0, ring.availableBytes());
        assertEquals(bytes, ring.consumerPos());
        assertEquals(0, drain(ring).size());
    }

    @Test
    void consumeStopsAtABusyRecordAndSkipsDiscardedOnes() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        try (Cpu cpu = kernel.bindCpu(0)) {
            long a = ring.reserve(cpu, 2);
            long b = ring.reserve(cpu, 1);
            long c = ring.reserve(cpu, 1);
            assertEquals(0, a);
            assertEquals(24, b, "header and two words");
            assertEquals(40, c);
            ring.write(a, 0, 10);
            ring.write(a, 1, 11);
            ring.write(b, 0, 20);
            ring.write(c, 0, 30);
            ring.discard(b);
            ring.submit(c);
            assertEquals(0, drain(ring).size(), "record a is still BUSY");
            assertEquals(56, ring.availableBytes());
            assertEquals(0, ring.consumerPos());
            ring.submit(a);
            List<long[]> got = drain(ring);
            assertEquals(2, got.size(), "b was discarded");
            assertArrayEquals(new long[] {10, 11}, got.get(0));
            assertArrayEquals(new long[] {30}, got.get(1));
            assertEquals(56, ring.consumerPos(), "the discarded record is consumed too");
            assertEquals(0, ring.dropped());
        }
    }

    @Test
    void recordsAreWrittenOnlyWhileReserved() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        try (Cpu cpu = kernel.bindCpu(0)) {
            long a = ring.reserve(cpu, 2);
            assertMapError(Errno.EINVAL, ring, "word 2 of the record at 0", () -> ring.write(a, 2, 0));
            assertMapError(Errno.EINVAL, ring, "word -1 of the record at 0", () -> ring.write(a, -1, 0));
            assertMapError(Errno.EINVAL, ring, "reserve of -1 words", () -> ring.reserve(cpu, -1));
            ring.submit(a);
            assertMapError(Errno.EINVAL, ring, "record at 0", () -> ring.write(a, 0, 0));
            assertMapError(Errno.EINVAL, ring, "record at 0", () -> ring.submit(a));
            assertMapError(Errno.EINVAL, ring, "record at 0", () -> ring.discard(a));
            assertEquals(1, drain(ring).size());
        }
    }

    @Test
    void aFullRingDropsAndCountsTheDrop() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        try (Cpu cpu = kernel.bindCpu(0)) {
            // 16-byte records; producer_pos may run at most SIZE - 1 bytes ahead: 255 fit.
            List<Long> reserved = new ArrayList<>();
            long pos;
            while ((pos = ring.reserve(cpu, 1)) >= 0) {
                reserved.add(pos);
            }
            assertEquals(255, reserved.size());
            assertEquals(1, ring.dropped());
            assertEquals(EAGAIN, ring.output(cpu, 1));
            assertEquals(2, ring.dropped());
            assertEquals(255 * 16, ring.availableBytes());
            for (long p : reserved) {
                ring.write(p, 0, p);
                ring.submit(p);
            }
            List<long[]> got = drain(ring);
            assertEquals(255, got.size());
            for (int i = 0; i < got.size(); i++) {
                assertArrayEquals(new long[] {reserved.get(i)}, got.get(i));
            }
            assertEquals(0, ring.output(cpu, 1), "consuming gave the space back");
            drain(ring);
            assertEquals(2, ring.dropped());
        }
    }

    @Test
    void theLargestRecordIsOneByteShortOfTheRing() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(-1, ring.reserve(cpu, SIZE / 8), "larger than the ring");
            assertEquals(-1, ring.reserve(cpu, SIZE / 8 - 1), "header included, exactly the ring");
            assertEquals(2, ring.dropped());
            long pos = ring.reserve(cpu, SIZE / 8 - 2);
            assertEquals(0, pos);
            ring.write(pos, SIZE / 8 - 3, 99);
            ring.submit(pos);
            long[] got = drain(ring).get(0);
            assertEquals(SIZE / 8 - 2, got.length);
            assertEquals(99, got[got.length - 1]);
        }
    }

    @Test
    void dropsAreCountedOnEveryCpu() throws Exception {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        onEachCpu(cpu -> {
            for (int i = 0; i <= cpu.id(); i++) {
                assertEquals(-1, ring.reserve(cpu, SIZE));
            }
        });
        assertEquals(3, ring.dropped(), "one on cpu 0, two on cpu 1");
    }

    @Test
    void recordsWrapAroundTheEndOfTheRing() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        List<long[]> got = new ArrayList<>();
        int records = 2000;
        try (Cpu cpu = kernel.bindCpu(0)) {
            for (int i = 0; i < records; i++) {
                // 1 to 5 words: records of 16 to 48 bytes, so many straddle the end of the area.
                long pos = ring.reserve(cpu, i % 5 + 1);
                for (int w = 0; w <= i % 5; w++) {
                    ring.write(pos, w, i * 10L + w);
                }
                ring.submit(pos);
                if (i % 7 == 6) {
                    got.addAll(drain(ring));
                }
            }
        }
        got.addAll(drain(ring));
        assertEquals(records, got.size());
        for (int i = 0; i < records; i++) {
            long[] expected = new long[i % 5 + 1];
            for (int w = 0; w < expected.length; w++) {
                expected[w] = i * 10L + w;
            }
            assertArrayEquals(expected, got.get(i), "record " + i);
        }
        assertTrue(ring.producerPos() > 10L * SIZE, "wrapped " + ring.producerPos() / SIZE + " times");
        assertEquals(0, ring.dropped());
    }

    @Test
    void aRingBufferHasOneConsumer() {
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        try (Cpu cpu = kernel.bindCpu(0)) {
            ring.output(cpu, 1);
            ring.output(cpu, 2);
        }
        assertMapError(Errno.EBUSY, ring, "one consumer", () -> ring.consume(s -> ring.consume(t -> { })));
        assertEquals(16, ring.consumerPos(), "the record whose handler threw was consumed");
        List<long[]> rest = drain(ring);
        assertEquals(1, rest.size(), "the flag was cleared: consuming works again");
        assertArrayEquals(new long[] {2}, rest.get(0));
    }

    @Test
    void twoProducersFillTheRingToExactlyItsCapacity() throws Exception {
        int size = 1 << 20;
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", size);
        int capacity = (size - 1) / 16;
        long[][] positions = new long[2][capacity + 1];
        int[] reserved = new int[2];
        onEachCpu(cpu -> {
            int id = cpu.id();
            long pos;
            while ((pos = ring.reserve(cpu, 1)) >= 0) {
                ring.write(pos, 0, (long) id << 32 | reserved[id]);
                ring.submit(pos);
                positions[id][reserved[id]++] = pos;
            }
        });
        assertEquals(capacity, reserved[0] + reserved[1], "1-word records: the ring holds (size - 1) / 16");
        assertEquals(2, ring.dropped(), "each CPU stopped at its first failure");
        Set<Long> distinct = new HashSet<>();
        for (int id = 0; id < 2; id++) {
            for (int i = 0; i < reserved[id]; i++) {
                assertTrue(distinct.add(positions[id][i]), "position " + positions[id][i] + " reserved twice");
            }
        }
        int[] next = new int[2];
        for (long[] sample : drain(ring)) {
            int id = (int) (sample[0] >>> 32);
            assertEquals(next[id]++, (int) sample[0], "cpu " + id + "'s records in order");
        }
        assertEquals(reserved[0], next[0]);
        assertEquals(reserved[1], next[1]);
    }

    /** The words of record {@code seq} of {@code cpu}: its number, then words derived from it. */
    private static long word(int cpu, int seq, int i) {
        long w0 = (long) cpu << 32 | seq;
        return i == 0 ? w0 : w0 * 0x9E3779B97F4A7C15L + i;
    }

    private static int output(BpfRingBuf ring, Cpu cpu, int seq) {
        int id = cpu.id();
        return switch (seq % 4) {
            case 0 -> ring.output(cpu, word(id, seq, 0));
            case 1 -> ring.output(cpu, word(id, seq, 0), word(id, seq, 1));
            case 2 -> ring.output(cpu, word(id, seq, 0), word(id, seq, 1), word(id, seq, 2));
            default -> ring.output(cpu, word(id, seq, 0), word(id, seq, 1), word(id, seq, 2), word(id, seq, 3));
        };
    }

    @Test
    void twoProducersAndAConsumerSeeEveryRecordOnceInOrder() throws Exception {
        int n = 30_000;
        long discardMarker = -1;
        BpfRingBuf ring = BpfRingBuf.create(kernel, "events", SIZE);
        long[] failedReserves = new long[2];
        AtomicBoolean consumerFailed = new AtomicBoolean();
        int[] next = new int[2];
        onEachCpu(cpu -> {
            int id = cpu.id();
            for (int seq = 0; seq < n; seq++) {
                if (seq % 10 == 0) {
                    long pos = ring.reserve(cpu, 1);
                    if (pos >= 0) {
                        ring.write(pos, 0, discardMarker);
                        ring.discard(pos);
                    } else {
                        failedReserves[id]++;
                    }
                }
                while (output(ring, cpu, seq) == EAGAIN) {
                    failedReserves[id]++;
                    if (consumerFailed.get() || Thread.currentThread().isInterrupted()) {
                        return;
                    }
                    Thread.onSpinWait();
                }
            }
        }, () -> {
            try {
                while (next[0] + next[1] < 2 * n && !Thread.currentThread().isInterrupted()) {
                    ring.consume(sample -> {
                        int cpu = (int) (sample[0] >>> 32);
                        int seq = (int) sample[0];
                        assertTrue(cpu == 0 || cpu == 1, "a discarded record or garbage: " + sample[0]);
                        assertEquals(next[cpu], seq, "cpu " + cpu + "'s records in order, none lost");
                        assertEquals(seq % 4 + 1, sample.length);
                        for (int i = 0; i < sample.length; i++) {
                            assertEquals(word(cpu, seq, i), sample[i], "word " + i + " of " + cpu + "/" + seq);
                        }
                        next[cpu]++;
                    });
                }
                return null;
            } catch (RuntimeException | Error e) {
                consumerFailed.set(true);
                throw e;
            }
        });
        assertEquals(n, next[0]);
        assertEquals(n, next[1]);
        assertEquals(0, drain(ring).size(), "nothing left but discarded records");
        assertEquals(0, ring.availableBytes());
        assertEquals(failedReserves[0] + failedReserves[1], ring.dropped(), "every failed reserve counted");
        assertTrue(ring.producerPos() > 100L * SIZE, "wrapped " + ring.producerPos() / SIZE + " times");
    }
}
