package dev.gtramp.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Map;
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
 * <p>Thread-safe: blocks are found in a concurrent skip list; the bytes themselves have plain
 * access, like ordinary kernel memory, so concurrent users must order their accesses themselves.
 */
public final class KernelMemory {
    /** Where allocations start: the base of the x86-64 direct map ({@code PAGE_OFFSET}) plus 4 GiB. */
    public static final long BASE = 0xffff888100000000L;
    private static final int ALIGN = 16;

    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /** A live allocation. */
    private record Block(long base, String type, byte[] bytes) {
    }

    private final ConcurrentSkipListMap<Long, Block> blocks = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    private final AtomicLong next = new AtomicLong(BASE);

    /**
     * Allocates {@code size} zeroed bytes ({@code kzalloc}).
     *
     * @param type a label for the object, such as {@code "struct bpf_fentry_test_t"}, used in fault reports
     */
    public long alloc(String type, int size) {
        if (size <= 0) {
            throw new KernelException(Errno.EINVAL, "kzalloc of " + size + " bytes for " + type);
        }
        long span = (size + ALIGN - 1) & -ALIGN;
        // A gap after each block makes an off-by-one overflow fault instead of hitting a neighbour.
        long base = next.getAndAdd(span + ALIGN);
        blocks.put(base, new Block(base, type, new byte[size]));
        return base;
    }

    /** Frees the block at {@code address} ({@code kfree}). */
    public void free(long address) {
        if (blocks.remove(address) == null) {
            throw new KernelException(Errno.EFAULT, String.format("kfree of %#x, which is not an allocated block", address));
        }
    }

    /** The number of live blocks. */
    public int liveBlocks() {
        return blocks.size();
    }

    public long load64(long address) {
        Block b = block(address, 8, "load64");
        return (long) I64.get(b.bytes(), (int) (address - b.base()));
    }

    public int load32(long address) {
        Block b = block(address, 4, "load32");
        return (int) I32.get(b.bytes(), (int) (address - b.base()));
    }

    public short load16(long address) {
        Block b = block(address, 2, "load16");
        return (short) I16.get(b.bytes(), (int) (address - b.base()));
    }

    public byte load8(long address) {
        Block b = block(address, 1, "load8");
        return b.bytes()[(int) (address - b.base())];
    }

    public void store64(long address, long value) {
        Block b = block(address, 8, "store64");
        I64.set(b.bytes(), (int) (address - b.base()), value);
    }

    public void store32(long address, int value) {
        Block b = block(address, 4, "store32");
        I32.set(b.bytes(), (int) (address - b.base()), value);
    }

    public void store16(long address, short value) {
        Block b = block(address, 2, "store16");
        I16.set(b.bytes(), (int) (address - b.base()), value);
    }

    public void store8(long address, byte value) {
        Block b = block(address, 1, "store8");
        b.bytes()[(int) (address - b.base())] = value;
    }

    private Block block(long address, int width, String op) {
        Map.Entry<Long, Block> e = blocks.floorEntry(address);
        if (e != null) {
            Block b = e.getValue();
            long off = address - b.base();
            if (off >= 0 && off + width <= b.bytes().length) {
                return b;
            }
            if (off >= 0 && off < b.bytes().length + ALIGN) {
                throw new KernelException(Errno.EFAULT, String.format(
                        "%s at %#x is out of bounds of %s (%d bytes at %#x)", op, address, b.type(), b.bytes().length, b.base()));
            }
        }
        throw new KernelException(Errno.EFAULT, String.format("%s at %#x: no kernel memory mapped there", op, address));
    }
}
