package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.percpu.ThisCpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * {@code BPF_MAP_TYPE_RINGBUF} ({@code kernel/bpf/ringbuf.c}): a multi-producer, single-consumer
 * ring of variable-length records that programs on any CPU reserve, fill and commit, and one user
 * space consumer reads in order ({@code ring_buffer__consume} of libbpf's {@code ringbuf.c}).
 *
 * <p><b>Layout.</b> The data area is {@code max_entries} bytes, a power of two and a multiple of
 * {@link #PAGE_SIZE}, kept as u64 words. A record is an 8-byte header, {@code struct
 * bpf_ringbuf_hdr} (the low half {@code len}, the sample's length in bytes with
 * {@link #BPF_RINGBUF_BUSY_BIT} and {@link #BPF_RINGBUF_DISCARD_BIT} in it; the high half
 * {@code pg_off}, which the model does not need and leaves 0), then the sample, whole u64 words;
 * records are 8-byte aligned, so a record that passes the end of the area continues at its start a
 * word at a time (the kernel maps the data pages twice instead).
 *
 * <p><b>Positions.</b> {@code producer_pos} and {@code consumer_pos} count bytes from creation and
 * never wrap (2^63 bytes); a position's offset in the area is {@code pos & mask}. Invariant:
 * {@code consumer_pos <= producer_pos <= consumer_pos + mask}. Every record between them has a
 * header; the consumer never passes a BUSY one. The two sit two cache lines apart, as the kernel
 * puts them on pages of their own, since the consumer writes one and the producers the other.
 *
 * <p><b>Producers</b> ({@code __bpf_ringbuf_reserve}) serialise on {@code rb->spinlock}: read
 * {@code consumer_pos} with acquire (before the lock, as the kernel does: a stale value only
 * understates the space), take the lock, fail if the record would put {@code producer_pos} more
 * than {@code mask} ahead of it, write the header BUSY, publish the new {@code producer_pos} with
 * release, unlock. The kernel's {@code pending_pos} check (6.10) guards against user space moving
 * its writable {@code consumer_pos} past a BUSY record; here only {@link #consume} moves it and
 * never does, so that check is implied by this one. A commit ({@code bpf_ringbuf_commit}) clears
 * BUSY, setting DISCARD for a discard, with a release store: the sample's words are visible before
 * the cleared bit. The kernel uses {@code xchg}, a full barrier, because it then reads
 * {@code consumer_pos} to decide on a wakeup; the model does not wake a consumer.
 *
 * <p>A reservation that does not fit returns -1 (the helper's NULL) and counts a drop on the
 * running CPU ({@link #dropped()}); the kernel counts none, the program would.
 */
public final class BpfRingBuf extends BpfMap {
    /** {@code PAGE_SIZE}: the data area is a multiple of it. */
    public static final int PAGE_SIZE = 4096;
    /** {@code BPF_RINGBUF_HDR_SZ}: bytes of a record's header. */
    public static final int BPF_RINGBUF_HDR_SZ = 8;
    /** {@code BPF_RINGBUF_BUSY_BIT}: the record is reserved and not yet committed. */
    public static final long BPF_RINGBUF_BUSY_BIT = 1L << 31;
    /** {@code BPF_RINGBUF_DISCARD_BIT}: the record was discarded; the consumer skips it. */
    public static final long BPF_RINGBUF_DISCARD_BIT = 1L << 30;
    /** The length bits of a header: the low half without BUSY and DISCARD. */
    private static final long LEN_MASK = BPF_RINGBUF_DISCARD_BIT - 1;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle LOCK;
    private static final VarHandle CONSUMING;
    /** {@code consumer_pos} and {@code producer_pos}' indexes in {@link #positions}. */
    private static final int CONSUMER_POS = PerCpuSlots.PAD;
    private static final int PRODUCER_POS = 2 * PerCpuSlots.PAD;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LOCK = l.findVarHandle(BpfRingBuf.class, "spinlock", int.class);
            CONSUMING = l.findVarHandle(BpfRingBuf.class, "consuming", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@code rb->data}: the area as words. */
    private final long[] data;
    /** {@code rb->mask}: the area's size in bytes minus one. */
    private final long mask;
    /**
     * {@code consumer_pos} at {@link #CONSUMER_POS} and {@code producer_pos} at
     * {@link #PRODUCER_POS}, with {@link PerCpuSlots#PAD} unused longs around each.
     */
    private final long[] positions = new long[3 * PerCpuSlots.PAD];
    /** Failed reservations per CPU. */
    private final PerCpuSlots drops;
    /** {@code rb->spinlock}: 1 while a producer holds it. Accessed through {@link #LOCK}. */
    @SuppressWarnings("unused")
    private int spinlock;
    /** 1 while {@link #consume} runs, to catch a second consumer. Accessed through {@link #CONSUMING}. */
    @SuppressWarnings("unused")
    private int consuming;

    private BpfRingBuf(String name, int size, int cpus) {
        super(name, BpfMapType.RINGBUF, size);
        if (Integer.bitCount(size) != 1 || size % PAGE_SIZE != 0) {
            throw error(Errno.EINVAL, "size " + size + " is not a power of 2 and a multiple of " + PAGE_SIZE);
        }
        this.data = new long[size / Long.BYTES];
        this.mask = size - 1;
        this.drops = new PerCpuSlots(cpus, 1);
    }

    /**
     * {@code BPF_MAP_CREATE} of a ring buffer whose data area is {@code size} bytes
     * ({@code ringbuf_map_alloc}), with a drop counter per CPU of {@code kernel}.
     *
     * @throws KernelException EINVAL naming the map for a bad name, or a size that is not a power
     *                         of 2 and a multiple of {@link #PAGE_SIZE}
     */
    public static BpfRingBuf create(Kernel kernel, String name, int size) {
        Objects.requireNonNull(kernel, "kernel");
        try (Kernel.Operation op = kernel.beginOperation("BPF_MAP_CREATE " + name)) {
            return new BpfRingBuf(name, size, kernel.cpuCount());
        }
    }

    /**
     * {@code bpf_ringbuf_reserve(&rb, words * 8, 0)} on the running CPU.
     *
     * @return the record's position, for {@link #write}, {@link #submit} and {@link #discard}; or -1
     *         if it does not fit (the helper's NULL), counted in {@link #dropped()}
     * @throws KernelException EINVAL for a negative {@code words}, which the verifier would reject
     */
    public long reserve(ThisCpu cpu, int words) {
        if (words < 0) {
            throw error(Errno.EINVAL, "reserve of " + words + " words");
        }
        long len = BPF_RINGBUF_HDR_SZ + (long) words * Long.BYTES;
        if (len > mask + 1) {
            return drop(cpu);
        }
        // Acquire: pairs with the consumer's release, so its reads of the space it gave back are
        // done before this producer overwrites it.
        long cons = (long) WORDS.getAcquire(positions, CONSUMER_POS);
        lock();
        // Opaque: producer_pos is written only under the lock, whose acquire already orders this
        // read after the last holder's write.
        long prod = (long) WORDS.getOpaque(positions, PRODUCER_POS);
        long newProd = prod + len;
        if (newProd - cons > mask) {
            unlock();
            return drop(cpu);
        }
        // Plain: published by the release of producer_pos below.
        data[word(prod)] = (len - BPF_RINGBUF_HDR_SZ) | BPF_RINGBUF_BUSY_BIT;
        // Release: the BUSY header is written before a consumer can see the record exists.
        WORDS.setRelease(positions, PRODUCER_POS, newProd);
        unlock();
        return prod;
    }

    /**
     * Writes word {@code i} of the sample of the record reserved at {@code pos}.
     *
     * @throws KernelException EINVAL if the record is not reserved (already submitted or discarded)
     *                         or {@code i} is outside its sample
     */
    public void write(long pos, int i, long word) {
        long hdr = data[word(pos)];
        if ((hdr & BPF_RINGBUF_BUSY_BIT) == 0 || i < 0 || i >= (hdr & LEN_MASK) / Long.BYTES) {
            throw error(Errno.EINVAL, "write of word " + i + " of the record at " + pos + " (header "
                    + Long.toHexString(hdr) + ")");
        }
        // Plain: the consumer reads the sample only after the commit's release.
        data[sampleWord(pos, i)] = word;
    }

    /**
     * {@code bpf_ringbuf_submit}: commits the record at {@code pos}.
     *
     * @throws KernelException EINVAL if the record is not reserved
     */
    public void submit(long pos) {
        commit(pos, 0);
    }

    /**
     * {@code bpf_ringbuf_discard}: commits the record at {@code pos} as discarded.
     *
     * @throws KernelException EINVAL if the record is not reserved
     */
    public void discard(long pos) {
        commit(pos, BPF_RINGBUF_DISCARD_BIT);
    }

    /**
     * {@code bpf_ringbuf_output(&rb, words, size, 0)}: reserve, copy, submit.
     *
     * @return 0, or {@code -EAGAIN} if the record does not fit (a drop)
     */
    public int output(ThisCpu cpu, long... words) {
        long pos = reserve(cpu, words.length);
        if (pos < 0) {
            return -Errno.EAGAIN.code();
        }
        for (int i = 0; i < words.length; i++) {
            data[sampleWord(pos, i)] = words[i];
        }
        return commit(pos, 0);
    }

    /** {@link #output(ThisCpu, long...)} of one word, without the varargs array. */
    public int output(ThisCpu cpu, long w0) {
        long pos = reserve(cpu, 1);
        if (pos < 0) {
            return -Errno.EAGAIN.code();
        }
        data[sampleWord(pos, 0)] = w0;
        return commit(pos, 0);
    }

    /** {@link #output(ThisCpu, long...)} of two words, without the varargs array. */
    public int output(ThisCpu cpu, long w0, long w1) {
        long pos = reserve(cpu, 2);
        if (pos < 0) {
            return -Errno.EAGAIN.code();
        }
        data[sampleWord(pos, 0)] = w0;
        data[sampleWord(pos, 1)] = w1;
        return commit(pos, 0);
    }

    /** {@link #output(ThisCpu, long...)} of three words, without the varargs array. */
    public int output(ThisCpu cpu, long w0, long w1, long w2) {
        long pos = reserve(cpu, 3);
        if (pos < 0) {
            return -Errno.EAGAIN.code();
        }
        data[sampleWord(pos, 0)] = w0;
        data[sampleWord(pos, 1)] = w1;
        data[sampleWord(pos, 2)] = w2;
        return commit(pos, 0);
    }

    /**
     * {@code ring_buffer__consume} ({@code ringbuf_process_ring}): hands every committed record from
     * {@code consumer_pos} on to {@code handler}, in order, skipping discarded ones and stopping at
     * the first BUSY one or when no record is left; it reads {@code producer_pos} again until a
     * pass finds nothing new. Each record's space is given back before the handler runs (the
     * handler gets a copy, where libbpf's reads the sample in place and so gives it back after); a
     * handler that throws ends the call, its record consumed.
     *
     * @return the number of records handed to {@code handler}
     * @throws KernelException EBUSY if another thread is consuming: a ring buffer has one consumer
     */
    public int consume(Consumer<long[]> handler) {
        // Acquire: a consumer on another thread before this one has finished with the ring.
        if ((int) CONSUMING.compareAndExchangeAcquire(this, 0, 1) != 0) {
            throw error(Errno.EBUSY, "another thread is consuming; a ring buffer has one consumer");
        }
        try {
            return consumeRecords(handler);
        } finally {
            // Release: the next consumer sees this one's consumer_pos and reads.
            CONSUMING.setRelease(this, 0);
        }
    }

    private int consumeRecords(Consumer<long[]> handler) {
        int n = 0;
        // Opaque: consumer_pos is written only by the consumer, and CONSUMING ordered the last one.
        long cons = (long) WORDS.getOpaque(positions, CONSUMER_POS);
        boolean gotNewData;
        do {
            gotNewData = false;
            // Acquire: pairs with reserve's release, so the headers below it are written.
            long prod = (long) WORDS.getAcquire(positions, PRODUCER_POS);
            while (cons < prod) {
                // Acquire: pairs with the commit's release, so the sample's words are written.
                long hdr = (long) WORDS.getAcquire(data, word(cons));
                if ((hdr & BPF_RINGBUF_BUSY_BIT) != 0) {
                    return n;
                }
                gotNewData = true;
                long sampleBytes = hdr & LEN_MASK;
                long[] sample = (hdr & BPF_RINGBUF_DISCARD_BIT) != 0 ? null : copySample(cons, sampleBytes);
                cons += BPF_RINGBUF_HDR_SZ + (sampleBytes + Long.BYTES - 1) / Long.BYTES * Long.BYTES;
                // Release: the reads of the record are done before a producer may reuse its space.
                WORDS.setRelease(positions, CONSUMER_POS, cons);
                if (sample != null) {
                    n++;
                    handler.accept(sample);
                }
            }
        } while (gotNewData);
        return n;
    }

    /** Reservations that failed for want of space, over every CPU. */
    public long dropped() {
        return drops.sum(0);
    }

    /**
     * {@code bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA)}: {@code producer_pos - consumer_pos}, the
     * bytes of records not yet consumed, headers and uncommitted records included.
     */
    public long availableBytes() {
        // Acquire, both: as libbpf's ring__avail_data_size; consumer_pos first, so the difference
        // is never negative.
        long cons = (long) WORDS.getAcquire(positions, CONSUMER_POS);
        return (long) WORDS.getAcquire(positions, PRODUCER_POS) - cons;
    }

    /** {@code BPF_RB_PROD_POS}: bytes reserved since creation. */
    public long producerPos() {
        // Acquire: as availableBytes.
        return (long) WORDS.getAcquire(positions, PRODUCER_POS);
    }

    /** {@code BPF_RB_CONS_POS}: bytes consumed since creation. */
    public long consumerPos() {
        // Acquire: as availableBytes.
        return (long) WORDS.getAcquire(positions, CONSUMER_POS);
    }

    private long[] copySample(long pos, long bytes) {
        long[] sample = new long[(int) (bytes / Long.BYTES)];
        for (int i = 0; i < sample.length; i++) {
            // Plain: ordered by the acquire of the header.
            sample[i] = data[sampleWord(pos, i)];
        }
        return sample;
    }

    private int commit(long pos, long discardBit) {
        int h = word(pos);
        // Plain: this CPU wrote the header in reserve, and no one else writes it until the commit.
        long hdr = data[h];
        if ((hdr & BPF_RINGBUF_BUSY_BIT) == 0) {
            throw error(Errno.EINVAL, "commit of the record at " + pos + ", which is not reserved (header "
                    + Long.toHexString(hdr) + ")");
        }
        // Release: the sample's words are written before the consumer sees BUSY clear.
        WORDS.setRelease(data, h, (hdr ^ BPF_RINGBUF_BUSY_BIT) | discardBit);
        return 0;
    }

    private long drop(ThisCpu cpu) {
        drops.add(cpu.id(), 0, 1);
        return -1;
    }

    /** The word of the area at byte position {@code pos}. */
    private int word(long pos) {
        return (int) ((pos & mask) >>> 3);
    }

    /** The word of the area holding word {@code i} of the sample of the record at {@code pos}. */
    private int sampleWord(long pos, int i) {
        return word(pos + BPF_RINGBUF_HDR_SZ + (long) i * Long.BYTES);
    }

    private void lock() {
        // Acquire: raw_spin_lock; the critical section's accesses stay after it.
        while (!LOCK.weakCompareAndSetAcquire(this, 0, 1)) {
            // Opaque: spin on a read until the lock looks free, then try again.
            while ((int) LOCK.getOpaque(this) != 0) {
                Thread.onSpinWait();
            }
        }
    }

    private void unlock() {
        // Release: raw_spin_unlock; the critical section's accesses complete before it.
        LOCK.setRelease(this, 0);
    }
}
