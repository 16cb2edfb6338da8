package dev.gtramp.kernel.btf;

/**
 * Open-addressing hash index from {@code FUNC} name to type id, keyed by the name bytes in the
 * string section so that no {@code String} per function is kept.
 *
 * <p>Invariant: the table is a power of two at least twice the number of functions, so probing
 * always reaches an empty slot; a slot holds a {@code FUNC} id or 0. When names repeat the lowest
 * id wins, as {@code btf_find_by_name_kind()} would find it first.
 */
final class FuncNameIndex {
    static final int FNV_BASIS = 0x811c9dc5;
    static final int FNV_PRIME = 0x01000193;

    private final Btf btf;
    private final int[] slots;
    private final int mask;

    FuncNameIndex(Btf btf, int[] funcIds) {
        this.btf = btf;
        int capacity = Integer.highestOneBit(Math.max(2, funcIds.length) * 2 - 1) << 1;
        this.slots = new int[capacity];
        this.mask = capacity - 1;
        for (int id : funcIds) {
            insert(id);
        }
    }

    private void insert(int id) {
        int nameOff = btf.field(id, 0);
        int i = mix(btf.nameHash(nameOff)) & mask;
        while (slots[i] != 0) {
            if (btf.sameString(btf.field(slots[i], 0), nameOff)) {
                return;
            }
            i = (i + 1) & mask;
        }
        slots[i] = id;
    }

    /** The {@code FUNC} id with this UTF-8 name, or 0. */
    int find(byte[] name) {
        int h = FNV_BASIS;
        for (byte b : name) {
            h = (h ^ (b & 0xff)) * FNV_PRIME;
        }
        for (int i = mix(h) & mask; slots[i] != 0; i = (i + 1) & mask) {
            if (btf.nameEquals(btf.field(slots[i], 0), name)) {
                return slots[i];
            }
        }
        return 0;
    }

    /** Spreads the high bits down, as linear probing uses only the low ones. */
    private static int mix(int h) {
        return h ^ (h >>> 16);
    }
}
