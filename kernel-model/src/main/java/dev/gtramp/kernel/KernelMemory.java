package dev.gtramp.kernel;

import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.mm.AllocatorConfig;
import dev.gtramp.kernel.mm.KernelObject;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Kernel data memory that pointer arguments point into: {@code kmalloc}-style blocks at addresses in
 * the x86-64 direct map, read and written little-endian like the real thing.
 *
 * <p>A pointer a test passes to a kernel function (the {@code int *b} of
 * {@code bpf_modify_return_test}, the {@code struct bpf_fentry_test_t *} of
 * {@code bpf_fentry_test8}) is an address here, so a body and a BPF program dereference the same
 * bytes. An access outside every live block faults with {@link Errno#EFAULT} naming the address,
 * where the kernel would oops (or {@code bpf_probe_read_kernel} would return {@code -EFAULT}).
 *
 * <p>Blocks are {@link KernelObject}s of an {@link Allocator}, accounted under their type label
 * and failing with {@code ENOMEM} when the fault point {@code "alloc:" + label} fires. A freed
 * block is poisoned (filled with {@link #POISON_FREE}, as {@code slub_debug} fills freed objects)
 * and its addresses stay in a bounded quarantine, as KASAN's quarantine keeps freed objects from
 * reuse: an access to a quarantined block is reported as a KASAN use-after-free of its type, and a
 * second {@code kfree} as a double free. Addresses are never reused, so once a block leaves the
 * quarantine an access to it faults as unmapped.
 *
 * <p>Thread-safe: blocks are found in concurrent skip lists; the bytes themselves have plain
 * access, like ordinary kernel memory, so concurrent users must order their accesses themselves.
 */
public final class KernelMemory {
    /** Where allocations start: the base of the x86-64 direct map ({@code PAGE_OFFSET}) plus 4 GiB. */
    public static final long BASE = 0xffff888100000000L;
    private static final int ALIGN = 16;
    /** Freed blocks kept in quarantine; the oldest leaves when another one is freed. */
    public static final int QUARANTINE_BLOCKS = 1024;
    /** The byte a freed block is filled with, {@code POISON_FREE} of {@code include/linux/poison.h}. */
    public static final byte POISON_FREE = 0x6b;

    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /** An allocation; its lifetime is the allocator's. */
    private static final class Block extends KernelObject {
        final long base;
        final byte[] bytes;

        Block(long base, String type, int size) {
            super(type, size);
            this.base = base;
            this.bytes = new byte[size];
        }

        @Override
        protected void poison() {
            Arrays.fill(bytes, POISON_FREE);
        }
    }

    private final Allocator allocator;
    /** Live blocks by base address. */
    private final ConcurrentSkipListMap<Long, Block> blocks = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    /** Quarantined (freed) blocks by base address. */
    private final ConcurrentSkipListMap<Long, Block> quarantine = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    /** The quarantine's blocks, oldest first; guarded by itself. */
    private final ArrayDeque<Block> quarantineOrder = new ArrayDeque<>();
    private final AtomicLong next = new AtomicLong(BASE);

    /** Memory whose blocks {@code allocator} accounts and checks. */
    public KernelMemory(Allocator allocator) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
    }

    /** Memory with an allocator of its own: default config, a private log and no armed faults. */
    public KernelMemory() {
        this(new Allocator(new KernelLog(false), new FaultInjector(), AllocatorConfig.defaults()));
    }

    /** The allocator that accounts the blocks. */
    public Allocator allocator() {
        return allocator;
    }

    /**
     * Allocates {@code size} zeroed bytes ({@code kzalloc}).
     *
     * @param type a label for the object, such as {@code "struct bpf_fentry_test_t"}, used in fault
     *             reports and as the allocator's type
     * @throws KernelException EINVAL for a size below 1; ENOMEM if the fault point
     *                         {@code "alloc:" + type} fires
     */
    public long alloc(String type, int size) {
        if (size <= 0) {
            throw new KernelException(Errno.EINVAL, "kzalloc of " + size + " bytes for " + type);
        }
        long span = (size + ALIGN - 1) & -ALIGN;
        // A gap after each block makes an off-by-one overflow fault instead of hitting a neighbour.
        long base = next.getAndAdd(span + ALIGN);
        // An injected ENOMEM leaves a hole in the address space: harmless, as addresses are never reused.
        Block b = allocator.alloc(new Block(base, type, size));
        blocks.put(base, b);
        return base;
    }

    /**
     * Frees the block at {@code address} ({@code kfree}).
     *
     * @throws dev.gtramp.kernel.mm.KasanException a double-free if the block is in quarantine, an
     *                                             invalid-free if the address points inside a block
     *                                             (each only when the allocator throws)
     * @throws KernelException                     EFAULT if no block is, or recently was, there
     */
    public void free(long address) {
        Block b = blocks.get(address);
        if (b == null) {
            b = quarantine.get(address);
        }
        if (b == null) {
            Block inside = containing(address);
            if (inside != null) {
                allocator.reportInvalidFree(inside, "kfree", String.format("%#x is %d bytes inside %s (%d bytes at %#x)",
                        address, address - inside.base, inside.type(), inside.size(), inside.base));
                return;
            }
            throw new KernelException(Errno.EFAULT, String.format("kfree of %#x, which is not an allocated block", address));
        }
        if (allocator.free(b, "kfree")) {
            // Into quarantine before out of the live map, so a racing access always finds the block.
            quarantine.put(b.base, b);
            blocks.remove(b.base, b);
            Block evicted = null;
            synchronized (quarantineOrder) {
                quarantineOrder.addLast(b);
                if (quarantineOrder.size() > QUARANTINE_BLOCKS) {
                    evicted = quarantineOrder.pollFirst();
                }
            }
            if (evicted != null) {
                quarantine.remove(evicted.base, evicted);
            }
        }
    }

    /** The number of live blocks. */
    public int liveBlocks() {
        return blocks.size();
    }

    public long load64(long address) {
        Block b = block(address, 8, "load64");
        return (long) I64.get(b.bytes, (int) (address - b.base));
    }

    public int load32(long address) {
        Block b = block(address, 4, "load32");
        return (int) I32.get(b.bytes, (int) (address - b.base));
    }

    public short load16(long address) {
        Block b = block(address, 2, "load16");
        return (short) I16.get(b.bytes, (int) (address - b.base));
    }

    public byte load8(long address) {
        Block b = block(address, 1, "load8");
        return b.bytes[(int) (address - b.base)];
    }

    public void store64(long address, long value) {
        Block b = block(address, 8, "store64");
        I64.set(b.bytes, (int) (address - b.base), value);
    }

    public void store32(long address, int value) {
        Block b = block(address, 4, "store32");
        I32.set(b.bytes, (int) (address - b.base), value);
    }

    public void store16(long address, short value) {
        Block b = block(address, 2, "store16");
        I16.set(b.bytes, (int) (address - b.base), value);
    }

    public void store8(long address, byte value) {
        Block b = block(address, 1, "store8");
        b.bytes[(int) (address - b.base)] = value;
    }

    /**
     * The block {@code [address, address + width)} lies in. A freed block in quarantine is reported
     * as a use after free and, if the allocator does not throw, returned with its poisoned bytes.
     */
    private Block block(long address, int width, String op) {
        Block b = nearestBelow(address);
        if (b != null) {
            long off = address - b.base;
            if (off >= 0 && off + width <= b.bytes.length) {
                if (!b.isLive()) {
                    b.checkLive(String.format("%s at %#x", op, address));
                }
                return b;
            }
            if (off >= 0 && off < b.bytes.length + ALIGN) {
                throw new KernelException(Errno.EFAULT, String.format(
                        "%s at %#x is out of bounds of %s (%d bytes at %#x)", op, address, b.type(), b.bytes.length, b.base));
            }
        }
        throw new KernelException(Errno.EFAULT, String.format("%s at %#x: no kernel memory mapped there", op, address));
    }

    /**
     * The live or quarantined block whose span (its bytes and the gap after them) holds
     * {@code address}, or else the nearest block below it, or null. Spans never overlap, so a live
     * block that holds the address settles it without a look at the quarantine.
     */
    private Block nearestBelow(long address) {
        Map.Entry<Long, Block> live = blocks.floorEntry(address);
        if (live != null && address - live.getKey() < live.getValue().bytes.length + ALIGN) {
            return live.getValue();
        }
        Map.Entry<Long, Block> freed = quarantine.floorEntry(address);
        if (live == null) {
            return freed == null ? null : freed.getValue();
        }
        if (freed == null) {
            return live.getValue();
        }
        return Long.compareUnsigned(live.getKey(), freed.getKey()) >= 0 ? live.getValue() : freed.getValue();
    }

    /** The block that {@code address} points strictly inside, or null. */
    private Block containing(long address) {
        Block b = nearestBelow(address);
        return b != null && address - b.base > 0 && address - b.base < b.bytes.length ? b : null;
    }
}
