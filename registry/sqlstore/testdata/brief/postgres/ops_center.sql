select 
  smc.receivers as "接收者员工编号列表"
  , smc.created_at as "任务创建时间"
  , spm.created_at as "消息推送时间"
  , spm.title as "标题"
  , spm.content as "内容"
  , spm.push_type as "推送类型"
  , spm.ios_device_tokens as "iOS 设备"
  , spm.ios_ret as "iOS 推送状态"
  , spm.ios_response as "iOS 推送响应"
  , spm.android_device_tokens as "Android 设备"
  , spm.android_ret as "Android 推送状态"
  , spm.android_response as "Android 推送响应"
from sys_message_center as smc
left join sys_push_messages as spm on spm.id::text = replace(smc.send_result, 'push_message#', '')
where smc.notify_mode = 'push'
order by smc.id desc;
