package dev.gtramp.kernel.btf;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Parsed BTF: the kernel's {@code struct btf} for a base (non-split) blob such as
 * {@code /sys/kernel/btf/vmlinux}. Built by {@link BtfReader}; immutable and safe to share between
 * threads.
 *
 * <p>Type ids run from 1 to {@link #typeCount()}; id 0 is {@code void}. Everything is kept in the
 * packed form the blob has (the type section as 32-bit words, the string section as bytes, one word
 * index per type id); {@link BtfType}s, names and {@link FunctionPrototype}s are decoded on demand, so
 * a parsed {@code vmlinux} costs little more than the blob itself.
 *
 * <p>Invariants established by {@link BtfReader}: every record is whole and of a known kind, every
 * name offset lies in the string section, every type id a record mentions is at most
 * {@link #typeCount()}, every {@code FUNC} refers to a {@code FUNC_PROTO}, and no chain of pointers,
 * modifiers and array element types loops; so the lookups here need no further checks.
 */
public final class Btf {
    /** Kernel size of a pointer on x86-64 ({@code sizeof(void *)} in {@code __get_type_size}). */
    public static final int POINTER_SIZE = 8;

    private final BtfHeader header;
    /** The type section as 32-bit words in host order. */
    private final int[] words;
    /** {@code offsets[id]}: word index of type {@code id}'s record; {@code offsets[0] == -1}. */
    private final int[] offsets;
    /** The string section; starts and ends with NUL. */
    private final byte[] strings;
    /** Ids of every {@code FUNC}, ascending. */
    private final int[] funcIds;
    private final FuncNameIndex funcIndex;

    Btf(BtfHeader header, int[] words, int[] offsets, byte[] strings, int[] funcIds) {
        this.header = header;
        this.words = words;
        this.offsets = offsets;
        this.strings = strings;
        this.funcIds = funcIds;
        this.funcIndex = new FuncNameIndex(this, funcIds);
    }

    /** The header the blob started with. */
    public BtfHeader header() {
        return header;
    }

    /** The byte order of the blob this was parsed from. */
    public ByteOrder byteOrder() {
        return header.byteOrder();
    }

    /**
     * The number of types in the type section: the largest valid type id. The kernel's
     * {@code btf->nr_types} is one more, since it counts {@code void}.
     */
    public int typeCount() {
        return offsets.length - 1;
    }

    /** The size of the string section in bytes. */
    public int stringSectionSize() {
        return strings.length;
    }

    /**
     * {@code btf_type_by_id()}: the type with the given id; id 0 is {@code void}.
     *
     * @throws IllegalArgumentException if there is no such type
     */
    public BtfType type(int id) {
        return new BtfType(this, checkId(id), offsets[id]);
    }

    /** The kind of type {@code id}, without building a {@link BtfType}. */
    public BtfKind kind(int id) {
        return BtfKind.of(rawKind(checkId(id)));
    }

    /** The name of type {@code id}, {@code ""} for an anonymous type or {@code void}. */
    public String name(int id) {
        return id == 0 ? "" : string(words[offsets[checkId(id)]]);
    }

    /**
     * {@code btf_name_by_offset()}: the NUL-terminated string at {@code offset} in the string section.
     * An offset may point into the middle of a string (suffixes are shared).
     *
     * @throws IllegalArgumentException if the offset lies outside the string section
     */
    public String string(int offset) {
        if (offset < 0 || offset >= strings.length) {
            throw new IllegalArgumentException("string offset 0x" + Integer.toHexString(offset)
                    + " is outside the string section of " + strings.length + " bytes");
        }
        int end = offset;
        while (strings[end] != 0) {
            end++;
        }
        return end == offset ? "" : new String(strings, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** How many types of each kind the type section has; kinds that do not occur are absent. */
    public Map<BtfKind, Integer> kindHistogram() {
        int[] counts = new int[BtfKind.MAX + 1];
        for (int id = 1; id < offsets.length; id++) {
            counts[rawKind(id)]++;
        }
        Map<BtfKind, Integer> out = new EnumMap<>(BtfKind.class);
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] != 0) {
                out.put(BtfKind.of(k), counts[k]);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * {@code btf_find_by_name_kind()}: the first type of the given kind and name, by a linear scan.
     */
    public OptionalInt findType(String name, BtfKind kind) {
        byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
        for (int id = 1; id < offsets.length; id++) {
            if (rawKind(id) == kind.id() && nameEquals(words[offsets[id]], wanted)) {
                return OptionalInt.of(id);
            }
        }
        return OptionalInt.empty();
    }

    /**
     * {@code btf_type_skip_modifiers()}: follows typedefs, {@code const}, {@code volatile},
     * {@code restrict} and type tags from {@code id} to the type they stand for.
     */
    public int resolve(int id) {
        checkId(id);
        while (id != 0 && BtfKind.of(rawKind(id)).isModifier()) {
            id = words[offsets[id] + 2];
        }
        return id;
    }

    /**
     * Follows only qualifiers and type tags ({@code const}, {@code volatile}, {@code restrict},
     * {@code TYPE_TAG}) from {@code id}, stopping at a typedef.
     */
    public int skipQualifiers(int id) {
        checkId(id);
        while (id != 0 && BtfKind.of(rawKind(id)).isQualifier()) {
            id = words[offsets[id] + 2];
        }
        return id;
    }

    /**
     * The size in bytes of the value type {@code id} stands for, after {@link #resolve(int)}:
     * {@link #POINTER_SIZE} for a pointer, {@code btf_type.size} for an int, float, enum, struct,
     * union or section, element size times {@code nelems} for an array, the variable's type size for a
     * {@code VAR}, and 0 for {@code void} and kinds without a size ({@code FWD}, {@code FUNC},
     * {@code FUNC_PROTO}, {@code DECL_TAG}). Saturates at {@link Long#MAX_VALUE}.
     */
    public long sizeOf(int id) {
        int r = resolve(id);
        if (r == 0) {
            return 0;
        }
        int pos = offsets[r];
        switch (BtfKind.of(rawKind(r))) {
            case PTR:
                return POINTER_SIZE;
            case INT: case FLOAT: case ENUM: case ENUM64: case STRUCT: case UNION: case DATASEC:
                return Integer.toUnsignedLong(words[pos + 2]);
            case ARRAY: {
                long nelems = Integer.toUnsignedLong(words[pos + 5]);
                long elem = sizeOf(words[pos + 3]);
                try {
                    return Math.multiplyExact(nelems, elem);
                } catch (ArithmeticException overflow) {
                    return Long.MAX_VALUE;
                }
            }
            case VAR:
                return sizeOf(words[pos + 2]);
            default:
                return 0;
        }
    }

    /**
     * The type as C spells it in a declaration without a name: typedef names as declared
     * ({@code u64}, {@code gfp_t}), {@code struct sk_buff *}, {@code const char *},
     * {@code void (*)(struct rcu_head *)}, {@code enum foo}, {@code struct {...}} for an anonymous
     * struct. Type tags ({@code __user}, {@code __rcu}) are left out. A {@code FUNC} renders as its
     * declaration without parameter names.
     */
    public String typeName(int id) {
        return CTypeRenderer.render(this, checkId(id));
    }

    /** The number of {@code FUNC} types. */
    public int functionCount() {
        return funcIds.length;
    }

    /** The ids of every {@code FUNC} type, ascending. */
    public int[] functionIds() {
        return funcIds.clone();
    }

    /**
     * The prototype of every {@code FUNC}, in type id order. Each call builds the list afresh (about
     * 56,000 entries for a {@code vmlinux}); callers that need it repeatedly should keep it.
     */
    public List<FunctionPrototype> functions() {
        List<FunctionPrototype> out = new ArrayList<>(funcIds.length);
        for (int id : funcIds) {
            out.add(FuncProtoDistiller.distill(this, id));
        }
        return Collections.unmodifiableList(out);
    }

    /** The id of the {@code FUNC} with this name; when names repeat, the lowest such id. */
    public OptionalInt functionId(String name) {
        int id = funcIndex.find(name.getBytes(StandardCharsets.UTF_8));
        return id == 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The prototype of the {@code FUNC} with this name, as {@link #functionId(String)} finds it. */
    public Optional<FunctionPrototype> function(String name) {
        OptionalInt id = functionId(name);
        return id.isPresent() ? Optional.of(FuncProtoDistiller.distill(this, id.getAsInt())) : Optional.empty();
    }

    /**
     * The prototype of the {@code FUNC} with the given id.
     *
     * @throws IllegalArgumentException if {@code funcId} is not a {@code FUNC}
     */
    public FunctionPrototype prototype(int funcId) {
        if (kind(funcId) != BtfKind.FUNC) {
            throw new IllegalArgumentException("type [" + funcId + "] is " + kind(funcId) + ", not FUNC");
        }
        return FuncProtoDistiller.distill(this, funcId);
    }

    @Override
    public String toString() {
        return "Btf[" + typeCount() + " types, " + funcIds.length + " functions, " + strings.length
                + " bytes of strings, " + header.byteOrder() + "]";
    }

    // ---- package-private access for BtfType, the renderer and the name index -----------------

    int word(int index) {
        return words[index];
    }

    int recordPos(int id) {
        return offsets[id];
    }

    int rawKind(int id) {
        return id == 0 ? 0 : (words[offsets[id] + 1] >>> 24) & 0x1f;
    }

    /** Word {@code k} of type {@code id}'s record (0 name_off, 1 info, 2 size/type, 3.. kind data). */
    int field(int id, int k) {
        return words[offsets[id] + k];
    }

    /** Whether the string at {@code offset} equals {@code wanted} (UTF-8, no NUL). */
    boolean nameEquals(int offset, byte[] wanted) {
        if (offset + wanted.length >= strings.length) {
            return false;
        }
        for (int i = 0; i < wanted.length; i++) {
            if (strings[offset + i] != wanted[i]) {
                return false;
            }
        }
        return strings[offset + wanted.length] == 0;
    }

    /** Whether the strings at two offsets are equal, compared in place. */
    boolean sameString(int a, int b) {
        if (a == b) {
            return true;
        }
        while (strings[a] == strings[b]) {
            if (strings[a] == 0) {
                return true;
            }
            a++;
            b++;
        }
        return false;
    }

    /** FNV-1a over the NUL-terminated string at {@code offset}. */
    int nameHash(int offset) {
        int h = FuncNameIndex.FNV_BASIS;
        for (int i = offset; strings[i] != 0; i++) {
            h = (h ^ (strings[i] & 0xff)) * FuncNameIndex.FNV_PRIME;
        }
        return h;
    }

    /** Absolute byte offset in the blob of type {@code id}'s record, for messages. */
    long byteOffset(int id) {
        return header.typeStart() + 4L * offsets[id];
    }

    private int checkId(int id) {
        if (id < 0 || id >= offsets.length) {
            throw new IllegalArgumentException("no BTF type [" + id + "]: ids run from 0 to " + typeCount());
        }
        return id;
    }
}
