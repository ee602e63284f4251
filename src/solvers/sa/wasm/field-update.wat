;; The hot loop of the annealer: after an accepted swap (one at a → 0, zero at b → 1), every local
;; field moves by the difference of two rows of S = Q + Qᵀ:  f[u] += S_b[u] − S_a[u]  (u < n).
;; f is float64, S float32: each pair of float32 lanes is promoted to float64 before subtracting,
;; so the result is bit-identical to the plain JavaScript loop (promote, subtract, add in float64).
;; The memory is imported (shared between the worker threads that read the same S).
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; fPtr, aPtr, bPtr: byte offsets of f (16-byte aligned), row a and row b (16-byte aligned).
  (func (export "update") (param $fPtr i32) (param $aPtr i32) (param $bPtr i32) (param $n i32)
    (local $end i32) (local $fp i32) (local $ap i32) (local $bp i32)
    (local $va v128) (local $vb v128)
    (local.set $fp (local.get $fPtr))
    (local.set $ap (local.get $aPtr))
    (local.set $bp (local.get $bPtr))
    ;; vector part: 4 lanes per iteration
    (local.set $end (i32.add (local.get $aPtr) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $ap) (local.get $end)))
        (local.set $va (v128.load (local.get $ap)))
        (local.set $vb (v128.load (local.get $bp)))
        (v128.store (local.get $fp)
          (f64x2.add (v128.load (local.get $fp))
            (f64x2.sub (f64x2.promote_low_f32x4 (local.get $vb))
                       (f64x2.promote_low_f32x4 (local.get $va)))))
        (v128.store offset=16 (local.get $fp)
          (f64x2.add (v128.load offset=16 (local.get $fp))
            (f64x2.sub
              (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vb) (local.get $vb)))
              (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $va) (local.get $va))))))
        (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 16)))
        (local.set $fp (i32.add (local.get $fp) (i32.const 32)))
        (br $vloop)))
    ;; scalar tail: n mod 4 entries
    (local.set $end (i32.add (local.get $aPtr) (i32.shl (local.get $n) (i32.const 2))))
    (block $sdone
      (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $ap) (local.get $end)))
        (f64.store (local.get $fp)
          (f64.add (f64.load (local.get $fp))
            (f64.sub (f64.promote_f32 (f32.load (local.get $bp)))
                     (f64.promote_f32 (f32.load (local.get $ap))))))
        (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 4)))
        (local.set $fp (i32.add (local.get $fp) (i32.const 8)))
        (br $sloop)))))
