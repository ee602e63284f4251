;; One annealing chain, the same algorithm and the same arithmetic as annealChain in anneal.ts
;; (that file is the documented reference; a test checks the two give identical results).
;; Memory (shared with the other workers) holds S = Q + Qᵀ (float32) and, per worker, the chain's
;; state: f (float64), diag(Q) (float64), x and best (u8), ones / zeros / pos (i32), the betas
;; (float64), the xoshiro128** seed (4 × i32) and the statistics written back (3 × f64).
(module
  (import "env" "memory" (memory 1 65536 shared))
  (import "env" "exp" (func $exp (param f64) (result f64)))

  ;; The hot loop: after an accepted swap (one at a → 0, zero at b → 1), every local field moves by
  ;; the difference of two rows of S:  f[u] += S_b[u] − S_a[u]  (u < n). Each pair of float32
  ;; lanes is promoted to float64 before subtracting, so the result is bit-identical to the plain
  ;; JavaScript loop (promote, subtract, add in float64). fPtr, aPtr, bPtr: byte offsets of f
  ;; (16-byte aligned), row a and row b (16-byte aligned).
  (func $update (export "update") (param $fPtr i32) (param $aPtr i32) (param $bPtr i32) (param $n i32)
    (local $end i32) (local $fp i32) (local $ap i32) (local $bp i32)
    (local $va v128) (local $vb v128)
    (local.set $fp (local.get $fPtr))
    (local.set $ap (local.get $aPtr))
    (local.set $bp (local.get $bPtr))
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
        (br $sloop))))

  ;; Returns the best (tracked) energy; writes temperatures, proposals, accepted to $stats.
  (func (export "anneal")
    (param $S i32) (param $diag i32) (param $f i32) (param $x i32) (param $best i32)
    (param $ones i32) (param $zeros i32) (param $pos i32) (param $betas i32) (param $nBetas i32)
    (param $n i32) (param $k i32) (param $sweeps i32) (param $energy f64) (param $seed i32)
    (param $stats i32)
    (result f64)
    (local $nz i32) (local $bi i32) (local $sw i32) (local $i i32) (local $beta f64)
    (local $changed i32) (local $r i32) (local $t i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $a i32) (local $b i32) (local $dE f64) (local $bdE f64)
    (local $bestE f64) (local $atBest i32) (local $pa i32) (local $pb i32)
    (local $temps i32) (local $accepted f64) (local $proposals f64) (local $rowBytes i32)
    (local.set $nz (i32.sub (local.get $n) (local.get $k)))
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $s0 (i32.load (local.get $seed)))
    (local.set $s1 (i32.load offset=4 (local.get $seed)))
    (local.set $s2 (i32.load offset=8 (local.get $seed)))
    (local.set $s3 (i32.load offset=12 (local.get $seed)))
    (local.set $bestE (local.get $energy))
    (local.set $atBest (i32.const 1))
    (block $done
      (loop $temps_loop
        (br_if $done (i32.ge_u (local.get $bi) (local.get $nBetas)))
        (local.set $beta (f64.load (i32.add (local.get $betas) (i32.shl (local.get $bi) (i32.const 3)))))
        (local.set $temps (i32.add (local.get $temps) (i32.const 1)))
        (local.set $changed (i32.const 0))
        (local.set $sw (i32.const 0))
        (loop $sweep_loop
          (local.set $i (i32.const 0))
          (loop $var_loop
            (block $next
              ;; r = next uint32 (xoshiro128**)
              (local.set $r (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
              (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
              (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
              (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
              (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
              (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
              (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
              (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
              ;; partner of the opposite value: index floor(r · count / 2^32)
              (if (i32.load8_u (i32.add (local.get $x) (local.get $i)))
                (then
                  (local.set $a (local.get $i))
                  (local.set $b (i32.load (i32.add (local.get $zeros) (i32.shl
                    (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u (local.get $r)) (i64.extend_i32_u (local.get $nz))) (i64.const 32)))
                    (i32.const 2))))))
                (else
                  (local.set $b (local.get $i))
                  (local.set $a (i32.load (i32.add (local.get $ones) (i32.shl
                    (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u (local.get $r)) (i64.extend_i32_u (local.get $k))) (i64.const 32)))
                    (i32.const 2)))))))
              ;; ΔE = Q_aa + Q_bb + f_b − f_a − S_ab (evaluated left to right, as in JS)
              (local.set $dE
                (f64.sub
                  (f64.sub
                    (f64.add
                      (f64.add
                        (f64.load (i32.add (local.get $diag) (i32.shl (local.get $a) (i32.const 3))))
                        (f64.load (i32.add (local.get $diag) (i32.shl (local.get $b) (i32.const 3)))))
                      (f64.load (i32.add (local.get $f) (i32.shl (local.get $b) (i32.const 3)))))
                    (f64.load (i32.add (local.get $f) (i32.shl (local.get $a) (i32.const 3)))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $S)
                    (i32.add (i32.mul (local.get $a) (local.get $rowBytes)) (i32.shl (local.get $b) (i32.const 2))))))))
              (if (f64.gt (local.get $dE) (f64.const 0))
                (then
                  (local.set $r (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
                  (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
                  (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
                  (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
                  (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
                  (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
                  (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
                  (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
                  (local.set $bdE (f64.mul (local.get $beta) (local.get $dE)))
                  (if (f64.gt (local.get $bdE) (f64.const 23))
                    (then (br_if $next (i32.ne (local.get $r) (i32.const 0))))
                    (else
                      (br_if $next (f64.ge
                        (f64.div (f64.convert_i32_u (local.get $r)) (f64.const 4294967296))
                        (call $exp (f64.neg (local.get $bdE)))))))))
              ;; accepted: save the best state before leaving it
              (if (i32.and (local.get $atBest) (f64.ge (local.get $dE) (f64.const 0)))
                (then
                  (memory.copy (local.get $best) (local.get $x) (local.get $n))
                  (local.set $atBest (i32.const 0))))
              (local.set $accepted (f64.add (local.get $accepted) (f64.const 1)))
              (if (f64.ne (local.get $dE) (f64.const 0))
                (then (local.set $changed (i32.add (local.get $changed) (i32.const 1)))))
              (local.set $energy (f64.add (local.get $energy) (local.get $dE)))
              (if (f64.lt (local.get $energy) (local.get $bestE))
                (then
                  (local.set $bestE (local.get $energy))
                  (local.set $atBest (i32.const 1))))
              (i32.store8 (i32.add (local.get $x) (local.get $a)) (i32.const 0))
              (i32.store8 (i32.add (local.get $x) (local.get $b)) (i32.const 1))
              (local.set $pa (i32.load (i32.add (local.get $pos) (i32.shl (local.get $a) (i32.const 2)))))
              (local.set $pb (i32.load (i32.add (local.get $pos) (i32.shl (local.get $b) (i32.const 2)))))
              (i32.store (i32.add (local.get $ones) (i32.shl (local.get $pa) (i32.const 2))) (local.get $b))
              (i32.store (i32.add (local.get $pos) (i32.shl (local.get $b) (i32.const 2))) (local.get $pa))
              (i32.store (i32.add (local.get $zeros) (i32.shl (local.get $pb) (i32.const 2))) (local.get $a))
              (i32.store (i32.add (local.get $pos) (i32.shl (local.get $a) (i32.const 2))) (local.get $pb))
              (call $update (local.get $f)
                (i32.add (local.get $S) (i32.mul (local.get $a) (local.get $rowBytes)))
                (i32.add (local.get $S) (i32.mul (local.get $b) (local.get $rowBytes)))
                (local.get $n)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $var_loop (i32.lt_u (local.get $i) (local.get $n))))
          (local.set $proposals (f64.add (local.get $proposals) (f64.convert_i32_u (local.get $n))))
          (local.set $sw (i32.add (local.get $sw) (i32.const 1)))
          (br_if $sweep_loop (i32.lt_u (local.get $sw) (local.get $sweeps))))
        (br_if $done (i32.eqz (local.get $changed)))
        (local.set $bi (i32.add (local.get $bi) (i32.const 1)))
        (br $temps_loop)))
    (if (local.get $atBest) (then (memory.copy (local.get $best) (local.get $x) (local.get $n))))
    (f64.store (local.get $stats) (f64.convert_i32_u (local.get $temps)))
    (f64.store offset=8 (local.get $stats) (local.get $proposals))
    (f64.store offset=16 (local.get $stats) (local.get $accepted))
    (local.get $bestE)))
