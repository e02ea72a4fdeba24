#!/usr/bin/env bash
# The shipped student from scratch, in its stages (each resumable: rerun to continue; each training
# run is 15-40 minutes on 2 cores, about 5 hours in all):
#   reference_student.sh       data (100k synthetic plates, the seeded plates-real-dev split), then
#                              rounds 1-6 at 32x96: labels, then pseudo-labels on plates-real-unlabelled
#   student_wider_input.sh     round 6 widened to 32x128 (016); ROUNDS=1: its own second round is not used
#   student_geometry.sh        tilted, sheared and tighter crops (017)
#   student_permuted.sh (x2)   rounds with character-permuted plates of the real crops (017)
#   student_plate_glyphs.sh    synthetic plates with the plate's straight-sided round letters (020),
#                              labels from a model fine-tuned without pseudo-labels; then a second
#                              round labelled by the first
# then ship_models.sh, whose default is the last run here. Selection is on plates-real-val, never
# trained on.
source "$(dirname "$0")/setup.sh"
RECIPES=benchmarks/recipes
ROUNDS=6 $RECIPES/reference_student.sh
ROUNDS=1 $RECIPES/student_wider_input.sh
$RECIPES/student_geometry.sh
$RECIPES/student_permuted.sh
BASE=$R/student-permuted RUN=$R/student-permuted-r2 $RECIPES/student_permuted.sh
BASE=$R/student-permuted-r2 $RECIPES/student_plate_glyphs.sh
BASE=$R/student-rounded FORGET=none RUN=$R/student-rounded-r2 $RECIPES/student_plate_glyphs.sh
