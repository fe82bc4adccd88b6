// The checks table's filters (area, outcome, text).  A link such as
// report.html#area=kernel&outcome=failed opens the page pre-filtered.
function applyFilters(){
  var area=document.getElementById('f-area').value, outcome=document.getElementById('f-outcome').value,
      text=document.getElementById('f-text').value.toLowerCase(), shown=0;
  document.querySelectorAll('#checks tbody tr').forEach(function(tr){
    var ok=(!area||tr.dataset.area===area)&&(!outcome||tr.dataset.outcome===outcome)&&
           (!text||tr.textContent.toLowerCase().indexOf(text)>=0);
    tr.style.display=ok?'':'none'; if(ok){shown++;}
  });
  document.getElementById('f-count').textContent=shown+' shown';
}
document.addEventListener('DOMContentLoaded', function(){
  new URLSearchParams(location.hash.slice(1)).forEach(function(value, key){
    var el=document.getElementById('f-'+key); if(el){el.value=value;}
  });
  applyFilters();
});
