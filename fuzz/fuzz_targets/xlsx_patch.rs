#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    onrecord_fuzz::xlsx_patch(data, &onrecord_fuzz::scratch("xlsx_patch"));
});
