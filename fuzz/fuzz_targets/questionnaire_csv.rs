#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    onrecord_fuzz::questionnaire_csv(data, &onrecord_fuzz::scratch("questionnaire_csv"));
});
