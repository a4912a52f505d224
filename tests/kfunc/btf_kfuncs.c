/* BTF with three bpf_kfunc-tagged functions over structs, unions, enums,
 * typedefs and qualifiers: the seed that tests/kfunc/t-btf-mutate.sh mutates. */
struct inner { int a; long b; struct inner *next; };
typedef struct inner inner_t;
union u { int x; char c[8]; };
enum e { E1, E2 = 5 };
struct outer { inner_t i; union u u; enum e e; const volatile int *p; int arr[4]; };
#define KF __attribute__((btf_decl_tag("bpf_kfunc"))) __attribute__((noinline))
KF int kf_one(struct outer *o, int n) { return o->i.a + n; }
KF long kf_two(union u *x, enum e y, inner_t *z) { return x->x + y + z->b; }
KF void kf_three(const volatile int *p, unsigned long long q) { (void)p; (void)q; }
