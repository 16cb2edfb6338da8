package dev.gtramp.kernel.btf;

/**
 * The kind of a BTF type: {@code BTF_KIND_*} from {@code include/uapi/linux/btf.h}, bits 24..28 of
 * {@code btf_type.info}.
 *
 * <p>The ordinal of each constant equals its kernel value, so {@link #of(int)} is a plain array
 * lookup. {@link #UNKN} (0) is the kind of {@code void} (type id 0); it never appears in a type
 * section.
 */
public enum BtfKind {
    /** {@code BTF_KIND_UNKN}: {@code void}, type id 0 only. */
    UNKN,
    /** {@code BTF_KIND_INT}: an integer; followed by a {@code u32} of encoding, bit offset and bits. */
    INT,
    /** {@code BTF_KIND_PTR}: a pointer to {@code type}. */
    PTR,
    /** {@code BTF_KIND_ARRAY}: followed by {@code struct btf_array}. */
    ARRAY,
    /** {@code BTF_KIND_STRUCT}: followed by {@code vlen} {@code struct btf_member}. */
    STRUCT,
    /** {@code BTF_KIND_UNION}: followed by {@code vlen} {@code struct btf_member}. */
    UNION,
    /** {@code BTF_KIND_ENUM}: followed by {@code vlen} {@code struct btf_enum} (32-bit values). */
    ENUM,
    /** {@code BTF_KIND_FWD}: a forward declaration; {@code kind_flag} 1 means {@code union}. */
    FWD,
    /** {@code BTF_KIND_TYPEDEF}. */
    TYPEDEF,
    /** {@code BTF_KIND_VOLATILE}. */
    VOLATILE,
    /** {@code BTF_KIND_CONST}. */
    CONST,
    /** {@code BTF_KIND_RESTRICT}. */
    RESTRICT,
    /** {@code BTF_KIND_FUNC}: a function; {@code type} is its {@code FUNC_PROTO}, {@code vlen} its linkage. */
    FUNC,
    /** {@code BTF_KIND_FUNC_PROTO}: followed by {@code vlen} {@code struct btf_param}. */
    FUNC_PROTO,
    /** {@code BTF_KIND_VAR}: followed by {@code struct btf_var} (the linkage). */
    VAR,
    /** {@code BTF_KIND_DATASEC}: followed by {@code vlen} {@code struct btf_var_secinfo}. */
    DATASEC,
    /** {@code BTF_KIND_FLOAT}. */
    FLOAT,
    /** {@code BTF_KIND_DECL_TAG}: followed by {@code struct btf_decl_tag} (the component index). */
    DECL_TAG,
    /** {@code BTF_KIND_TYPE_TAG}. */
    TYPE_TAG,
    /** {@code BTF_KIND_ENUM64}: followed by {@code vlen} {@code struct btf_enum64}. */
    ENUM64;

    /** {@code NR_BTF_KINDS - 1}: the largest kind value the kernel knows. */
    public static final int MAX = ENUM64.ordinal();

    private static final BtfKind[] BY_ID = values();

    /** The kernel's {@code BTF_KIND_*} value. */
    public int id() {
        return ordinal();
    }

    /**
     * The name the kernel prints for this kind ({@code btf_type_str()}, {@code btf_kind_str[]}):
     * the constant's name, except {@code "UNKNOWN"} for {@link #UNKN}.
     */
    public String kernelName() {
        return this == UNKN ? "UNKNOWN" : name();
    }

    /** Whether {@code btf_type_is_modifier()} holds: a typedef, qualifier or type tag. */
    public boolean isModifier() {
        return this == TYPEDEF || this == VOLATILE || this == CONST || this == RESTRICT || this == TYPE_TAG;
    }

    /** Whether this is a C qualifier or type tag: a modifier that is not a typedef. */
    public boolean isQualifier() {
        return this == VOLATILE || this == CONST || this == RESTRICT || this == TYPE_TAG;
    }

    /** Whether the third word of {@code btf_type} is a size ({@code btf_type_has_size()}), not a type id. */
    public boolean hasSize() {
        return this == INT || this == STRUCT || this == UNION || this == ENUM || this == ENUM64
                || this == DATASEC || this == FLOAT;
    }

    /** Whether the third word of {@code btf_type} is a type id this type refers to. */
    public boolean hasTypeRef() {
        return this == PTR || this == TYPEDEF || this == VOLATILE || this == CONST || this == RESTRICT
                || this == FUNC || this == FUNC_PROTO || this == VAR || this == DECL_TAG || this == TYPE_TAG;
    }

    /**
     * The kind for a raw {@code BTF_KIND_*} value.
     *
     * @throws IllegalArgumentException if {@code id} is not a kind this enum knows
     */
    public static BtfKind of(int id) {
        if (id < 0 || id > MAX) {
            throw new IllegalArgumentException("unknown BTF kind " + id);
        }
        return BY_ID[id];
    }

    /** Whether {@code id} is a kind value this enum knows (including {@link #UNKN}). */
    public static boolean isKnown(int id) {
        return id >= 0 && id <= MAX;
    }
}
